/**
 * The cluster's certificate authorities and everything the server signs with them: the
 * server's TLS certificate (host CA), user TLS certificates and OpenSSH user certificates
 * (user CA), and identity files for seeded users.
 */
import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { writeFileAtomic } from '../identity/files.js';
import { formatIdentityFile } from '../identity/identity-file.js';
import { generateKey, publicKeyPemFromPrivate } from '../identity/keys.js';
import {
  createSshUserCertificate,
  DEFAULT_SSH_EXTENSIONS,
  sshCaKnownHostsLine,
  sshPublicKeyFromPem,
} from '../identity/ssh.js';
import {
  type CertificateAuthority,
  certificateExpiry,
  createCertificateAuthority,
  type IdentityFields,
  issueCertificate,
} from '../identity/x509.js';
import type { DataDir } from './datadir.js';
import { readOptional } from './storage/durable-file.js';

/** The key material a running server holds. Never log any `*KeyPem`. */
export interface ClusterCerts {
  clusterName: string;
  /** Signs client (user) certificates; the server trusts it for mTLS. */
  userCa: CertificateAuthority;
  /** Signs the server certificate; clients trust it. */
  hostCa: CertificateAuthority;
  serverCertPem: string;
  serverKeyPem: string;
}

const DAY_MS = 24 * 3600 * 1000;
const SERVER_CERT_TTL_MS = 365 * DAY_MS;
/** A server certificate closer than this to its end is re-issued at start. */
const SERVER_CERT_RENEW_MS = 30 * DAY_MS;

/** Names a client may check the server certificate against (Teleport's convention first). */
export const SERVER_DNS_NAMES = ['teleport.cluster.local', '*.teleport.cluster.local', 'localhost'];
export const SERVER_IP_ADDRESSES = ['127.0.0.1', '::1'];

/**
 * A stored CA, checked: the key must parse and belong to the certificate, or every
 * certificate the server issues later would fail. Undefined when either file is missing.
 */
async function loadCa(certPath: string, keyPath: string): Promise<CertificateAuthority | undefined> {
  const [certPem, keyPem] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);
  if (certPem === undefined || keyPem === undefined) return undefined;
  let matches = false;
  try {
    matches = new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    matches = false;
  }
  if (!matches) {
    throw new Error(
      `${keyPath} is not a readable private key of ${certPath}; restore the ca/ directory from a backup (a new CA would invalidate every certificate issued so far)`,
    );
  }
  return { certPem, keyPem };
}

async function saveCa(ca: CertificateAuthority, certPath: string, keyPath: string): Promise<void> {
  await writeFileAtomic(keyPath, ca.keyPem, 0o600);
  await writeFileAtomic(certPath, ca.certPem, 0o644);
}

/**
 * Loads the CAs and server certificate from `dir`, creating what is missing: the CAs only
 * when `create` (first start), the server certificate whenever it is missing or close to
 * its end.
 */
export async function loadOrCreateCerts(
  dir: DataDir,
  opts: { clusterName: string; now: Date; create: boolean; log: (line: string) => void },
): Promise<ClusterCerts> {
  let userCa = opts.create ? undefined : await loadCa(dir.userCaCert, dir.userCaKey);
  let hostCa = opts.create ? undefined : await loadCa(dir.hostCaCert, dir.hostCaKey);
  if (!opts.create && (!userCa || !hostCa)) {
    throw new Error(`data directory ${dir.root} is missing its certificate authorities (ca/)`);
  }
  if (!userCa) {
    userCa = await createCertificateAuthority({ clusterName: opts.clusterName, kind: 'user', now: opts.now });
    await saveCa(userCa, dir.userCaCert, dir.userCaKey);
    opts.log(`created user CA for cluster "${opts.clusterName}"`);
  }
  if (!hostCa) {
    hostCa = await createCertificateAuthority({ clusterName: opts.clusterName, kind: 'host', now: opts.now });
    await saveCa(hostCa, dir.hostCaCert, dir.hostCaKey);
    opts.log(`created host CA for cluster "${opts.clusterName}"`);
  }

  let serverCertPem = opts.create ? undefined : await readOptional(dir.serverCert);
  let serverKeyPem = opts.create ? undefined : await readOptional(dir.serverKey);
  const fresh =
    serverCertPem !== undefined &&
    serverKeyPem !== undefined &&
    certificateExpiry(serverCertPem).getTime() - opts.now.getTime() > SERVER_CERT_RENEW_MS;
  if (!fresh) {
    const key = await generateKey('ecdsa-p256');
    serverKeyPem = key.privateKeyPem;
    serverCertPem = await issueCertificate({
      ca: hostCa,
      publicKeyPem: key.publicKeyPem,
      identity: {
        username: `${randomUUID()}.${opts.clusterName}`,
        roles: ['Auth'],
        traits: {},
        activeRequests: [],
        allowedResourceIds: [],
        teleportCluster: opts.clusterName,
      },
      notAfter: new Date(opts.now.getTime() + SERVER_CERT_TTL_MS),
      now: opts.now,
      dnsNames: SERVER_DNS_NAMES,
      ipAddresses: SERVER_IP_ADDRESSES,
    });
    await writeFileAtomic(dir.serverKey, serverKeyPem, 0o600);
    await writeFileAtomic(dir.serverCert, serverCertPem, 0o644);
  }
  return {
    clusterName: opts.clusterName,
    userCa,
    hostCa,
    serverCertPem: serverCertPem!,
    serverKeyPem: serverKeyPem!,
  };
}

/** TLS CA certificates handed to clients: the host CA (to verify the server) and the user CA. */
export function tlsCaPems(certs: ClusterCerts): string[] {
  return [certs.hostCa.certPem, certs.userCa.certPem];
}

/** `@cert-authority` known_hosts lines for identity files. */
export function sshKnownHostsLines(certs: ClusterCerts): string[] {
  return [sshCaKnownHostsLine(publicKeyPemFromPrivate(certs.hostCa.keyPem), certs.clusterName)];
}

/** The host CA's SSH key as an authorized_keys line (Certs.SSHCACerts). */
export function sshCaAuthorizedKeys(certs: ClusterCerts): string[] {
  return [sshPublicKeyFromPem(publicKeyPemFromPrivate(certs.hostCa.keyPem))];
}

/** What a user certificate says about its holder. */
export interface UserCertSpec {
  identity: IdentityFields;
  /** SSH principals (logins). */
  principals: string[];
  notAfter: Date;
  now: Date;
}

/** A TLS user certificate (PEM) for `publicKeyPem`, signed by the user CA. */
export function issueUserTlsCert(
  certs: ClusterCerts,
  spec: UserCertSpec,
  publicKeyPem: string,
): Promise<string> {
  return issueCertificate({
    ca: certs.userCa,
    publicKeyPem,
    identity: { ...spec.identity, teleportCluster: certs.clusterName },
    notAfter: spec.notAfter,
    now: spec.now,
  });
}

/**
 * An OpenSSH user certificate for an authorized_keys line, signed by the user CA, with
 * Teleport's role and active-request extensions.
 */
export function issueUserSshCert(certs: ClusterCerts, spec: UserCertSpec, publicKeySsh: string): string {
  const extensions: Record<string, string> = {
    ...DEFAULT_SSH_EXTENSIONS,
    'teleport-roles': JSON.stringify({ version: 'v1', roles: spec.identity.roles }),
  };
  if (spec.identity.activeRequests.length > 0) {
    extensions['teleport-active-requests'] = JSON.stringify({
      access_requests: spec.identity.activeRequests,
    });
  }
  if (spec.identity.impersonator) extensions.impersonator = spec.identity.impersonator;
  return createSshUserCertificate({
    caKeyPem: certs.userCa.keyPem,
    publicKeySsh,
    keyId: spec.identity.username,
    principals: spec.principals.length > 0 ? spec.principals : [`-teleport-nologin-${randomUUID()}`],
    validAfter: new Date(spec.now.getTime() - 60_000),
    validBefore: spec.notAfter,
    extensions,
  });
}

/**
 * Writes an identity file (`tctl auth sign --format=file` layout: key, SSH cert, TLS
 * cert, `@cert-authority` lines, TLS CA certs) for a fresh key, mode 0600.
 */
export async function writeIdentityFile(
  path: string,
  certs: ClusterCerts,
  spec: UserCertSpec,
): Promise<void> {
  const key = await generateKey('ecdsa-p256');
  const tls = await issueUserTlsCert(certs, spec, key.publicKeyPem);
  const ssh = issueUserSshCert(certs, spec, sshPublicKeyFromPem(key.publicKeyPem));
  const text = formatIdentityFile({
    keyPem: key.privateKeyPem,
    sshCert: ssh,
    certPem: tls,
    sshCaLines: sshKnownHostsLines(certs),
    caPems: tlsCaPems(certs),
  });
  await writeFileAtomic(path, text, 0o600);
}
