/**
 * Reading certificates with node:crypto (certificate.ts) against what the X.509 library
 * that issues them reads: the same identity for every field Teleport encodes, and Go's
 * rules (crypto/x509 parser.go, parseName/parseASN1String) for the attribute string types.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  certificateExpiry,
  certificateSpki,
  parseIdentity,
  parseIdentityDer,
  SUBJECT_OIDS,
} from '../../../src/identity/certificate.js';
import { generateKey } from '../../../src/identity/keys.js';
import { type CertificateAuthority, createCertificateAuthority } from '../../../src/identity/x509.js';
import { caught, HOUR, NOW, userMaterial } from './fixtures.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const O = SUBJECT_OIDS;

/** Every field our server encodes, with values a text rendering of the DN would escape. */
const TRICKY = {
  username: 'alice, "the admin" + co=1',
  roles: ['dba', 'a,b', 'x+y=z', 'line\nbreak', '#hash', ' padded ', 'Zoë 日本 🚀'],
  traits: { logins: ['alice', 'root'], 'weird=key,+': ['v\\al"ue'], empty: [] },
  activeRequests: ['0190f3a2-0000-7000-8000-000000000001', '0190f3a2-0000-7000-8000-000000000002'],
  allowedResourceIds: ['/example.com/node/9f1c', '/example.com/kube:ns:pods/k8s/default/nginx'],
  routeToCluster: 'leaf.example.com',
  teleportCluster: 'example.com',
  impersonator: 'admin-bot@example.com',
};

/** What the X.509 library reads from the same subject, in TeleportIdentity shape. */
function readWithLibrary(certPem: string) {
  const cert = new x509.X509Certificate(certPem);
  const field = (oid: string) => cert.subjectName.getField(oid);
  return {
    username: field(O.commonName)[0],
    roles: field(O.organization),
    traits: JSON.parse(field(O.postalCode)[0]),
    activeRequests: field(O.activeRequests),
    allowedResourceIds: JSON.parse(field(O.allowedResourceIds)[0]),
    routeToCluster: field(O.streetAddress)[0],
    teleportCluster: field(O.teleportCluster)[0],
    impersonator: field(O.impersonator)[0],
    notBefore: cert.notBefore,
    expires: cert.notAfter,
  };
}

/** A self-signed certificate with exactly `name` as its subject. */
async function withSubject(name: x509.JsonName | x509.JsonAttributeAndObjectValue[], notAfter?: Date) {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, false, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: new x509.Name(name as x509.JsonName),
    notBefore: NOW,
    notAfter: notAfter ?? new Date(NOW.getTime() + HOUR),
    keys,
    signingAlgorithm: algorithm,
  });
  return cert.toString('pem');
}

describe('reading certificates with node:crypto', () => {
  let ca: CertificateAuthority;
  beforeAll(async () => {
    ca = await createCertificateAuthority({ clusterName: 'example.com', kind: 'user', now: NOW });
  });

  it('reads every field of an issued certificate as the X.509 library does', async () => {
    for (const alg of ['ecdsa-p256', 'rsa-2048'] as const) {
      const { certPem } = await userMaterial(alg, TRICKY, ca);
      const id = parseIdentity(certPem);
      expect(id).toEqual(readWithLibrary(certPem));
      expect(id).toEqual({
        ...TRICKY,
        notBefore: new Date(NOW.getTime() - 60_000),
        expires: new Date(NOW.getTime() + HOUR),
      });
      const der = new Uint8Array(new x509.X509Certificate(certPem).rawData);
      expect(parseIdentityDer(der)).toEqual(id);
    }
  });

  it('flattens multi-valued RDNs in order, as Go does', async () => {
    const pem = await withSubject([
      {
        [O.organization]: [{ utf8String: 'r1' }, { utf8String: 'r2' }],
        [O.commonName]: [{ utf8String: 'bob' }],
      },
      { [O.activeRequests]: [{ utf8String: 'req-1' }, { utf8String: 'req-2' }] },
      { [O.organization]: [{ utf8String: 'r3' }] },
    ]);
    expect(parseIdentity(pem)).toMatchObject({
      username: 'bob',
      roles: ['r1', 'r2', 'r3'],
      activeRequests: ['req-1', 'req-2'],
    });
  });

  it('reads the string types Go accepts and refuses the others', async () => {
    const pem = await withSubject([
      { [O.commonName]: [{ printableString: 'Bob Smith' }] },
      { [O.organization]: [{ bmpString: 'Zoë 日本' }] },
      { [O.organization]: [{ ia5String: 'ops@example.com' }] },
    ]);
    expect(parseIdentity(pem)).toMatchObject({
      username: 'Bob Smith',
      roles: ['Zoë 日本', 'ops@example.com'],
    });
    // Go's parseASN1String has no UniversalString: the whole certificate fails to parse.
    const universal = await withSubject([
      { [O.commonName]: [{ utf8String: 'bob' }] },
      { [O.organization]: [{ universalString: 'dba' }] },
    ]);
    expect(await caught(() => parseIdentity(universal))).toEqual({
      kind: 'permission',
      message: 'certificate is not a valid X.509 certificate',
    });
  });

  it('reads GeneralizedTime validity (years from 2050) to the second', async () => {
    const notAfter = new Date('2071-05-06T07:08:09Z');
    const pem = await withSubject(
      [{ [O.commonName]: [{ utf8String: 'bob' }] }, { [O.organization]: [{ utf8String: 'r' }] }],
      notAfter,
    );
    expect(parseIdentity(pem).expires).toEqual(notAfter);
    expect(certificateExpiry(pem)).toEqual(notAfter);
  });

  it('gives the SubjectPublicKeyInfo of the certified key', async () => {
    const key = await generateKey('ecdsa-p256');
    const { certPem } = await userMaterial('ecdsa-p256', TRICKY, ca);
    const spki = certificateSpki(certPem);
    expect(spki).toEqual(Buffer.from(new x509.X509Certificate(certPem).publicKey.rawData));
    expect(spki.equals(Buffer.from(key.publicKeyPem))).toBe(false);
  });

  it('refuses what is not a certificate', async () => {
    for (const bad of ['garbage', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n']) {
      expect(await caught(() => parseIdentity(bad))).toEqual({
        kind: 'permission',
        message: 'certificate is not a valid X.509 certificate',
      });
    }
    expect(await caught(() => parseIdentityDer(new Uint8Array([0x30, 0x03, 0x02, 0x01])))).toMatchObject({
      kind: 'permission',
    });
  });
});
