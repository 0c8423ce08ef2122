// tsyringe inside @peculiar/x509 needs the Reflect metadata API before that module loads.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AccessError } from '../model/errors.js';
import { SUBJECT_OIDS } from './certificate.js';
import { importSigningKey, spkiDer } from './keys.js';
import type { TeleportIdentity } from './types.js';

// Reading certificates needs only node:crypto; those functions live in certificate.ts and
// are re-exported here for callers that issue and read.
export {
  certificateExpiry,
  certificateSpki,
  parseIdentity,
  parseIdentityDer,
  SUBJECT_OIDS,
} from './certificate.js';

// Node's WebCrypto is the standard one; the cast only bridges the DOM-less type declarations.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** The identity fields encoded into a certificate subject. */
export type IdentityFields = Omit<TeleportIdentity, 'notBefore' | 'expires'>;

/** A CA certificate and its private key, both PEM. */
export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export interface CreateCaOptions {
  clusterName: string;
  kind: 'user' | 'host';
  now: Date;
}

export interface IssueCertificateOptions {
  ca: CertificateAuthority;
  /** PKIX `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY` PEM (what UserCertsRequest.TLSPublicKey carries). */
  publicKeyPem: string;
  identity: IdentityFields;
  notAfter: Date;
  now: Date;
  dnsNames?: string[];
  ipAddresses?: string[];
}

const CA_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;
/** Teleport backdates NotBefore so a client with a slightly slow clock accepts the cert. */
const CLOCK_SKEW_MS = 60 * 1000;

/**
 * Creates a self-signed ECDSA P-256 CA (CN = O = cluster name), valid ~10 years.
 * `kind` only tells user and host CAs apart in the caller's bookkeeping; both are
 * encoded identically, as Teleport does.
 */
export async function createCertificateAuthority(opts: CreateCaOptions): Promise<CertificateAuthority> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const name = new x509.Name([
    { [SUBJECT_OIDS.organization]: [{ utf8String: opts.clusterName }] },
    { [SUBJECT_OIDS.commonName]: [{ utf8String: opts.clusterName }] },
  ]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    notBefore: new Date(opts.now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(opts.now.getTime() + CA_LIFETIME_MS),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey);
  return {
    certPem: pemText(cert.toString('pem')),
    keyPem: pemText(x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')),
  };
}

/** Builds the subject as Go's pkix.Name writes it: one RDN SET per attribute value. */
function subjectFor(id: IdentityFields): x509.Name {
  const rdns: x509.JsonNameParams = [];
  const add = (oid: string, value: string) => rdns.push({ [oid]: [{ utf8String: value }] });
  if (id.routeToCluster) add(SUBJECT_OIDS.streetAddress, id.routeToCluster);
  if (Object.keys(id.traits).length > 0)
    add(SUBJECT_OIDS.postalCode, JSON.stringify(sortedTraits(id.traits)));
  for (const role of id.roles) add(SUBJECT_OIDS.organization, role);
  for (const usage of id.usage ?? []) add(SUBJECT_OIDS.organizationalUnit, usage);
  add(SUBJECT_OIDS.commonName, id.username);
  if (id.teleportCluster) add(SUBJECT_OIDS.teleportCluster, id.teleportCluster);
  if (id.impersonator) add(SUBJECT_OIDS.impersonator, id.impersonator);
  for (const request of id.activeRequests) add(SUBJECT_OIDS.activeRequests, request);
  if (id.disallowReissue) add(SUBJECT_OIDS.disallowReissue, 'true');
  if (id.allowedResourceIds.length > 0) {
    add(SUBJECT_OIDS.allowedResourceIds, JSON.stringify(id.allowedResourceIds));
  }
  return new x509.Name(rdns);
}

/** Go marshals maps with sorted keys; matching it keeps our certificates byte-stable. */
function sortedTraits(traits: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const key of Object.keys(traits).sort()) out[key] = traits[key];
  return out;
}

/**
 * Issues a leaf certificate carrying a Teleport identity, signed by `ca`: NotBefore =
 * now − 1 minute, serverAuth + clientAuth, digitalSignature + keyEncipherment, not a CA,
 * with DNS/IP SANs when given.
 */
export async function issueCertificate(opts: IssueCertificateOptions): Promise<string> {
  const caCert = parseCertificate(opts.ca.certPem);
  const signing = await importSigningKey(opts.ca.keyPem);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  const sans: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  const cert = await x509.X509CertificateGenerator.create({
    subject: subjectFor(opts.identity),
    // Re-using the CA's own subject keeps the issuer bytes identical, which Go's chain builder compares.
    issuer: caCert.subjectName,
    notBefore: new Date(opts.now.getTime() - CLOCK_SKEW_MS),
    notAfter: opts.notAfter,
    publicKey: new Uint8Array(spkiDer(opts.publicKeyPem)),
    signingKey: signing.key as x509.X509CertificateCreateWithKeyParams['signingKey'],
    signingAlgorithm: signing.algorithm,
    extensions,
  });
  return pemText(cert.toString('pem'));
}

/** PEM as files hold it: LF line ends and a final newline, so blocks concatenate cleanly. */
function pemText(pem: string): string {
  return `${pem.replace(/\r\n/g, '\n').trimEnd()}\n`;
}

function parseCertificate(certPem: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(certPem);
  } catch {
    throw new AccessError('permission', 'certificate is not a valid X.509 certificate');
  }
}

/**
 * True when `certPem` is signed by one of `caPems` (whose subject matches its issuer),
 * and both it and that CA are valid at `now`. Malformed input counts as not verified.
 */
export async function verifyCertificate(certPem: string, caPems: string[], now: Date): Promise<boolean> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch {
    return false;
  }
  if (!withinValidity(cert, now)) return false;
  const issuer = Buffer.from(cert.issuerName.toArrayBuffer());
  for (const caPem of caPems) {
    let ca: x509.X509Certificate;
    try {
      ca = new x509.X509Certificate(caPem);
    } catch {
      continue;
    }
    if (!withinValidity(ca, now) || !issuer.equals(Buffer.from(ca.subjectName.toArrayBuffer()))) continue;
    try {
      if (await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })) return true;
    } catch {
      // A CA of another key type cannot verify this signature; try the next one.
    }
  }
  return false;
}

function withinValidity(cert: x509.X509Certificate, now: Date): boolean {
  const t = now.getTime();
  return cert.notBefore.getTime() <= t && t <= cert.notAfter.getTime();
}
