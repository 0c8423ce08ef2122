import 'reflect-metadata';
import { X509Certificate } from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKey, publicKeyPemFromPrivate } from '../../../src/identity/keys.js';
import {
  type CertificateAuthority,
  certificateExpiry,
  createCertificateAuthority,
  type IdentityFields,
  issueCertificate,
  parseIdentity,
  parseIdentityDer,
  verifyCertificate,
} from '../../../src/identity/x509.js';
import { ALICE, caught, HOUR, NOW, rsaKey, userMaterial } from './fixtures.js';

const FULL: IdentityFields = {
  username: 'alice@example.com',
  roles: ['access', 'dba', 'role with spaces'],
  traits: {
    logins: ['alice', 'root'],
    kubernetes_groups: [],
    display: ['Zoë Ærø 日本 🚀', 'a"quoted"\\value'],
  },
  activeRequests: ['0190f3a2-0000-7000-8000-000000000001', '0190f3a2-0000-7000-8000-000000000002'],
  allowedResourceIds: ['/example.com/node/9f1c', '/example.com/kube:ns:pods/k8s/default/nginx'],
  routeToCluster: 'leaf.example.com',
  teleportCluster: 'example.com',
  impersonator: 'admin-bot',
};

describe('keys', () => {
  it('writes ECDSA keys as PKCS#8 and RSA keys as PKCS#1, like Teleport', async () => {
    const ec = await generateKey('ecdsa-p256');
    expect(ec.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(ec.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const rsa = await generateKey('rsa-2048');
    expect(rsa.privateKeyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(publicKeyPemFromPrivate(rsa.privateKeyPem)).toBe(rsa.publicKeyPem);
    expect(publicKeyPemFromPrivate(ec.privateKeyPem)).toBe(ec.publicKeyPem);
  });

  it('reads SEC1 "EC PRIVATE KEY" keys and rejects other PEM types', async () => {
    const { createPrivateKey } = await import('node:crypto');
    const ec = await generateKey('ecdsa-p256');
    const sec1 = createPrivateKey(ec.privateKeyPem).export({ type: 'sec1', format: 'pem' }).toString();
    expect(sec1).toMatch(/BEGIN EC PRIVATE KEY/);
    expect(publicKeyPemFromPrivate(sec1)).toBe(ec.publicKeyPem);
    expect(() => publicKeyPemFromPrivate(ec.publicKeyPem)).toThrow(
      /unsupported private key type "PUBLIC KEY"/,
    );
    expect(() =>
      publicKeyPemFromPrivate('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    ).toThrow(/corrupt/);
  });
});

describe('x509 identity', () => {
  let ca: CertificateAuthority;
  beforeAll(async () => {
    ca = await createCertificateAuthority({ clusterName: 'example.com', kind: 'user', now: NOW });
  });

  it('creates a self-signed ECDSA P-256 CA valid for about ten years', async () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.subject).toBe('O=example.com, CN=example.com');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.publicKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(cert.notBefore.getTime()).toBe(NOW.getTime() - 60_000);
    const years = (cert.notAfter.getTime() - NOW.getTime()) / (365 * 24 * HOUR);
    expect(years).toBeCloseTo(10, 1);
    const bc = cert.getExtension('2.5.29.19') as unknown as { ca: boolean };
    expect(bc.ca).toBe(true);
    const ku = cert.getExtension('2.5.29.15') as unknown as { usages: number };
    expect(ku.usages & 32).toBe(32); // keyCertSign
    // The serial is a positive integer below 2^128.
    expect(BigInt(`0x${cert.serialNumber}`) < 2n ** 128n).toBe(true);
    expect(await verifyCertificate(ca.certPem, [ca.certPem], NOW)).toBe(true);
  });

  it('round-trips every identity field through the subject', async () => {
    for (const alg of ['ecdsa-p256', 'rsa-2048'] as const) {
      const { certPem } = await userMaterial(alg, FULL, ca);
      const id = parseIdentity(certPem);
      expect(id).toEqual({
        ...FULL,
        notBefore: new Date(NOW.getTime() - 60_000),
        expires: new Date(NOW.getTime() + HOUR),
      });
    }
  });

  it('leaves unset optional fields out and reads them back as empty', async () => {
    const { certPem } = await userMaterial('ecdsa-p256', { ...ALICE, traits: {} }, ca);
    const id = parseIdentity(certPem);
    expect(id.traits).toEqual({});
    expect(id.activeRequests).toEqual([]);
    expect(id.allowedResourceIds).toEqual([]);
    expect(id).not.toHaveProperty('routeToCluster');
    expect(id).not.toHaveProperty('impersonator');
    expect(id).not.toHaveProperty('teleportCluster');
  });

  it('encodes the subject as Go does: one RDN per value, Teleport OIDs, JSON traits', async () => {
    const { certPem } = await userMaterial('ecdsa-p256', FULL, ca);
    const cert = new X509Certificate(certPem);
    const rdns = cert.subjectName.toJSON();
    expect(rdns.every((rdn) => Object.values(rdn).flat().length === 1)).toBe(true);
    expect(cert.subjectName.getField('2.5.4.10')).toEqual(FULL.roles);
    expect(cert.subjectName.getField('1.3.9999.2.8')).toEqual(FULL.activeRequests);
    expect(JSON.parse(cert.subjectName.getField('2.5.4.17')[0])).toEqual(FULL.traits);
    expect(JSON.parse(cert.subjectName.getField('1.3.9999.2.10')[0])).toEqual(FULL.allowedResourceIds);
    expect(cert.subjectName.getField('2.5.4.9')).toEqual(['leaf.example.com']);
    expect(cert.subjectName.getField('1.3.9999.1.7')).toEqual(['example.com']);
    expect(cert.subjectName.getField('1.3.9999.2.7')).toEqual(['admin-bot']);
  });

  it('issues leaf certificates with Teleport template extensions and SANs', async () => {
    const key = await generateKey('ecdsa-p256');
    const pem = await issueCertificate({
      ca,
      publicKeyPem: key.publicKeyPem,
      identity: { ...ALICE, username: 'host-uuid', roles: ['Admin'] },
      now: NOW,
      notAfter: new Date(NOW.getTime() + 24 * HOUR),
      dnsNames: ['teleport.cluster.local', '*.teleport.cluster.local', 'localhost'],
      ipAddresses: ['127.0.0.1', '::1'],
    });
    const cert = new X509Certificate(pem);
    const san = cert.getExtension('2.5.29.17') as unknown as { names: { toJSON(): unknown } };
    expect(san.names.toJSON()).toEqual([
      { type: 'dns', value: 'teleport.cluster.local' },
      { type: 'dns', value: '*.teleport.cluster.local' },
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
    ]);
    const eku = cert.getExtension('2.5.29.37') as unknown as { usages: string[] };
    expect(eku.usages).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const ku = cert.getExtension('2.5.29.15') as unknown as { usages: number };
    expect(ku.usages).toBe(1 | 4); // digitalSignature | keyEncipherment
    const bc = cert.getExtension('2.5.29.19') as unknown as { ca: boolean };
    expect(bc.ca).toBe(false);
    expect(cert.notBefore.getTime()).toBe(NOW.getTime() - 60_000);
    // The issuer DN is byte-for-byte the CA's subject (Go's chain building compares bytes).
    const caCert = new X509Certificate(ca.certPem);
    expect(Buffer.from(cert.issuerName.toArrayBuffer())).toEqual(
      Buffer.from(caCert.subjectName.toArrayBuffer()),
    );
    expect(Buffer.from(cert.rawData).includes(Buffer.from(caCert.subjectName.toArrayBuffer()))).toBe(true);
  });

  it('accepts a PKCS#1 RSA public key PEM, as UserCertsRequest.TLSPublicKey may carry', async () => {
    const { createPublicKey } = await import('node:crypto');
    const key = await rsaKey();
    const pkcs1 = createPublicKey(key.publicKeyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
    const pem = await issueCertificate({
      ca,
      publicKeyPem: pkcs1,
      identity: ALICE,
      now: NOW,
      notAfter: new Date(NOW.getTime() + HOUR),
    });
    expect(publicKeyPemFromPrivate(key.privateKeyPem)).toBe(
      createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString(),
    );
  });

  it('parses the identity from DER as a TLS peer certificate presents it', async () => {
    const { certPem } = await userMaterial('ecdsa-p256', FULL, ca);
    const der = new Uint8Array(new X509Certificate(certPem).rawData);
    expect(parseIdentityDer(der)).toEqual(parseIdentity(certPem));
  });

  it('refuses a certificate without CN or O', async () => {
    const noRoles = await userMaterial('ecdsa-p256', { ...ALICE, roles: [] }, ca);
    expect(await caught(() => parseIdentity(noRoles.certPem))).toEqual({
      kind: 'permission',
      message: 'certificate has no Teleport identity (CN and O required)',
    });
    const noUser = await userMaterial('ecdsa-p256', { ...ALICE, username: '' }, ca);
    expect((await caught(() => parseIdentity(noUser.certPem))).message).toBe(
      'certificate has no Teleport identity (CN and O required)',
    );
    expect(await caught(() => parseIdentity('not a certificate'))).toMatchObject({ kind: 'permission' });
  });

  it('verifies the chain, and fails with another CA, when expired, or before validity', async () => {
    const { certPem } = await userMaterial('ecdsa-p256', ALICE, ca);
    const other = await createCertificateAuthority({ clusterName: 'example.com', kind: 'user', now: NOW });
    expect(await verifyCertificate(certPem, [ca.certPem], NOW)).toBe(true);
    expect(await verifyCertificate(certPem, [other.certPem, ca.certPem], NOW)).toBe(true);
    // Same subject, different key: the name matches but the signature does not.
    expect(await verifyCertificate(certPem, [other.certPem], NOW)).toBe(false);
    expect(await verifyCertificate(certPem, [], NOW)).toBe(false);
    expect(await verifyCertificate(certPem, [ca.certPem], new Date(NOW.getTime() + 2 * HOUR))).toBe(false);
    expect(await verifyCertificate(certPem, [ca.certPem], new Date(NOW.getTime() - 2 * 60_000))).toBe(false);
    expect(await verifyCertificate('garbage', [ca.certPem], NOW)).toBe(false);
    expect(await verifyCertificate(certPem, ['garbage'], NOW)).toBe(false);
  });

  it('rejects a certificate signed by another (RSA) key under the CA name', async () => {
    const { createPrivateKey } = await import('node:crypto');
    const rsa = await rsaKey();
    // Signing with an RSA key while naming the ECDSA CA as issuer must not pass.
    const forged = await issueCertificate({
      ca: {
        certPem: ca.certPem,
        keyPem: createPrivateKey(rsa.privateKeyPem).export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
      publicKeyPem: rsa.publicKeyPem,
      identity: ALICE,
      now: NOW,
      notAfter: new Date(NOW.getTime() + HOUR),
    });
    expect(await verifyCertificate(forged, [ca.certPem], NOW)).toBe(false);
  });

  it('reports the expiry', async () => {
    const { certPem } = await userMaterial('ecdsa-p256', ALICE, ca);
    expect(certificateExpiry(certPem)).toEqual(new Date(NOW.getTime() + HOUR));
  });
});
