import { createPublicKey } from 'node:crypto';
import { parseIdentity } from '../identity/certificate.js';
import type { IdentityFileContents } from '../identity/identity-file.js';
import { generateKey } from '../identity/keys.js';
import { saveReissuedCertificate } from '../identity/reissue.js';
import { sshPublicKeyFromPem } from '../identity/ssh.js';
import type { Credentials, TeleportIdentity } from '../identity/types.js';
import { AccessError } from '../model/errors.js';
import type { Connection } from './connect.js';

export interface ReissueOptions {
  /** Request IDs to assume (GenerateUserCerts AccessRequests). */
  accessRequests?: string[];
  /** Request IDs to drop; `['*']` drops all (DropAccessRequests). */
  dropAccessRequests?: string[];
}

export interface Reissued {
  certPem: string;
  identity: TeleportIdentity;
  /** The new SSH certificate line, when one was asked for and issued. */
  sshCert?: string;
}

/**
 * Asks the Auth Service for a new certificate for the connected user, for the same key and
 * the same expiry, with requests added or dropped. Nothing is written; see
 * {@link writeBackCredentials}. An identity file also carries an SSH certificate for the
 * same key, so one is asked for too and the file stays consistent.
 */
export async function reissueCertificates(conn: Connection, opts: ReissueOptions = {}): Promise<Reissued> {
  const creds = conn.credentials;
  const publicKeyPem = createPublicKey(creds.keyPem).export({ type: 'spki', format: 'pem' }).toString();
  // An identity file holds one key for both; a tsh profile has its own SSH key (v17+) or
  // shares it (v16), named by `<user>.pub` either way.
  const sshPublicKey =
    creds.source.kind === 'identity-file'
      ? creds.sshCert !== undefined
        ? `${sshPublicKeyFromPem(publicKeyPem)}\n`
        : undefined
      : creds.source.kind === 'tsh-profile'
        ? await (await import('../identity/profile.js')).readProfileSshPublicKey(creds.source)
        : undefined;
  return generateFor(conn, publicKeyPem, sshPublicKey, opts);
}

/**
 * GenerateUserCerts for the connected user and the given public keys, with the caller's
 * expiry and cluster route; an SSH certificate is kept only when an SSH key was sent.
 */
async function generateFor(
  conn: Connection,
  publicKeyPem: string,
  sshPublicKey: string | undefined,
  opts: ReissueOptions & { signal?: AbortSignal },
): Promise<Reissued> {
  const creds = conn.credentials;
  // The selected cluster (tsh's SiteName) stays the certificate's route, as tsh keeps it.
  const routeToCluster =
    creds.source.kind === 'tsh-profile' ? creds.source.cluster : conn.identity.routeToCluster;
  const certs = await conn.auth.generateUserCerts(
    {
      username: conn.identity.username,
      tlsPublicKey: Buffer.from(publicKeyPem),
      sshPublicKey: sshPublicKey === undefined ? undefined : Buffer.from(sshPublicKey),
      expires: conn.identity.expires,
      routeToCluster,
      accessRequests: opts.accessRequests ?? [],
      dropAccessRequests: opts.dropAccessRequests ?? [],
    },
    opts.signal ? { signal: opts.signal } : {},
  );
  const certPem = certs.tls.toString('utf8');
  if (certPem.trim() === '') {
    throw new AccessError('failure', 'the Auth Service returned no TLS certificate');
  }
  const sshCert = certs.ssh.toString('utf8').trim();
  return {
    certPem,
    identity: parseIdentity(certPem),
    ...(sshPublicKey !== undefined && sshCert ? { sshCert } : {}),
  };
}

/** A separate identity: a fresh key and certificates for it, in identity-file form. */
export interface FreshIdentity {
  contents: IdentityFileContents;
  identity: TeleportIdentity;
}

/**
 * Issues certificates for the connected user to a freshly generated key (of the same type
 * as the caller's), carrying `accessRequests` on top of the requests the caller's
 * certificate already carries, with the caller's expiry. Nothing is written and the
 * caller's credentials are not touched: the result is a second, separate identity that
 * trusts the same CAs.
 */
export async function issueFreshIdentity(
  conn: Connection,
  opts: { accessRequests: string[]; signal?: AbortSignal },
): Promise<FreshIdentity> {
  const creds = conn.credentials;
  const rsa = createPublicKey(creds.keyPem).asymmetricKeyType === 'rsa';
  const key = await generateKey(rsa ? 'rsa-2048' : 'ecdsa-p256');
  const sshPublicKey = `${sshPublicKeyFromPem(key.publicKeyPem)}\n`;
  const issued = await generateFor(conn, key.publicKeyPem, sshPublicKey, opts);
  return {
    contents: {
      keyPem: key.privateKeyPem,
      certPem: issued.certPem,
      ...(issued.sshCert ? { sshCert: issued.sshCert } : {}),
      ...(creds.sshCaLines ? { sshCaLines: creds.sshCaLines } : {}),
      caPems: creds.caPems,
    },
    identity: issued.identity,
  };
}

/**
 * Saves a re-issued certificate where the credentials came from, atomically and mode
 * 0600: the identity file is rewritten, the tsh profile's certificate replaced. A TLS trio
 * given with --cert/--key/--ca is left untouched (`read-only`).
 */
export async function writeBackCredentials(
  creds: Credentials,
  certPem: string,
  sshCert?: string,
): Promise<'identity-file' | 'tsh-profile' | 'read-only'> {
  const kind = creds.source.kind;
  if (kind === 'tls-trio') return 'read-only';
  // A profile keeps only the new SSH certificate: an old one would still carry dropped requests.
  const next = kind === 'tsh-profile' ? { ...creds, sshCert } : sshCert ? { ...creds, sshCert } : creds;
  await saveReissuedCertificate(next, certPem);
  return kind;
}
