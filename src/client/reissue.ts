import { createPublicKey } from 'node:crypto';
import { parseIdentity } from '../identity/certificate.js';
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
  const wantSsh = sshPublicKey !== undefined;
  // The selected cluster (tsh's SiteName) stays the certificate's route, as tsh keeps it.
  const routeToCluster =
    creds.source.kind === 'tsh-profile' ? creds.source.cluster : conn.identity.routeToCluster;
  const certs = await conn.auth.generateUserCerts({
    username: conn.identity.username,
    tlsPublicKey: Buffer.from(publicKeyPem),
    sshPublicKey: sshPublicKey === undefined ? undefined : Buffer.from(sshPublicKey),
    expires: conn.identity.expires,
    routeToCluster,
    accessRequests: opts.accessRequests ?? [],
    dropAccessRequests: opts.dropAccessRequests ?? [],
  });
  const certPem = certs.tls.toString('utf8');
  if (certPem.trim() === '') {
    throw new AccessError('failure', 'the Auth Service returned no TLS certificate');
  }
  const sshCert = certs.ssh.toString('utf8').trim();
  return { certPem, identity: parseIdentity(certPem), ...(wantSsh && sshCert ? { sshCert } : {}) };
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
