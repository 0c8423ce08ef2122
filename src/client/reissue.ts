import { createPublicKey } from 'node:crypto';
import { parseIdentity } from '../identity/certificate.js';
import type { IdentityFileContents } from '../identity/identity-file.js';
import { generateKey } from '../identity/keys.js';
import { saveReissuedCertificate } from '../identity/reissue.js';
import { sshPublicKeyFromPem } from '../identity/ssh.js';
import { type Credentials, cannotAssumeReason, type TeleportIdentity } from '../identity/types.js';
import { AccessError } from '../model/errors.js';
import { type AccessRequest, approvalProgressText } from '../model/request.js';
import type { Connection } from './connect.js';
import type { CallOptions } from './rpc.js';

export interface ReissueOptions {
  signal?: AbortSignal;
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
  opts: ReissueOptions,
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

/** Where a re-issued certificate went, in words: the identity file, or the tsh profile's directory. */
export function savedWhere(creds: Credentials): string {
  const src = creds.source;
  return src.kind === 'identity-file'
    ? src.path
    : src.kind === 'tsh-profile'
      ? `the tsh profile in ${src.home}`
      : '';
}

/**
 * An approved request this identity cannot assume (see {@link cannotAssumeReason}), said before
 * asking, with what works instead; `retry` is the command that assumes it once that is done.
 */
export function impersonatedError(id: string, reason: string, retry: string): AccessError {
  return new AccessError(
    'not-assumed',
    `request ${id} is approved, but this identity cannot assume it: ${reason}`,
    `assume it with credentials from \`tsh login\` (or an identity file from \`tsh login --out FILE\`): ${retry}`,
  );
}

/** What assuming a request did. */
export interface Assumed {
  /** `read-only`: a TLS trio, which is never rewritten; nothing was re-issued. */
  saved: 'identity-file' | 'tsh-profile' | 'read-only';
  /** {@link savedWhere}; '' when read-only. */
  where: string;
  /** The identity of the re-issued certificate; absent when read-only. */
  identity?: TeleportIdentity;
}

/**
 * Why `req` cannot be assumed with these credentials, or undefined when it may be asked for:
 * its state (still pending, denied, promoted), another user's request, or an impersonated
 * identity. The server checks again (lib/auth/auth_with_roles.go: generateUserCerts refuses
 * AccessRequests from an impersonated identity, then validates each ID with
 * getValidatedAccessRequest); this only says it earlier and with the command that helps.
 * `retry` names the command to run again.
 */
export function assumeRefusal(conn: Connection, req: AccessRequest, retry: string): AccessError | undefined {
  const id = req.id;
  switch (req.state) {
    case 'APPROVED':
      break;
    case 'PENDING':
      return new AccessError(
        'failure',
        `request ${id} is still pending (${approvalProgressText(req)}); only an approved request can be assumed`,
        `wait for it with: access request wait ${id}`,
      );
    case 'DENIED':
      return new AccessError('denied', `request ${id} was denied; it cannot be assumed`);
    default:
      return new AccessError(
        'failure',
        `request ${id} is ${req.state}; only an approved request can be assumed`,
      );
  }
  const me = conn.identity.username;
  if (req.user !== me) {
    return new AccessError(
      'permission',
      `request ${id} belongs to ${JSON.stringify(req.user)}, not to ${JSON.stringify(me)}; only the user who asked may assume it`,
    );
  }
  const refused = cannotAssumeReason(conn.identity);
  return refused ? impersonatedError(id, refused, retry) : undefined;
}

/**
 * Assumes approved request `id` as tsh's `login --request-id` does: re-issues the caller's
 * certificate with it added to the requests it already carries and writes it back where it
 * came from (0600, atomically). A TLS trio is left alone (`read-only`). The caller checks
 * {@link assumeRefusal} first when it has the request in hand.
 */
export async function assumeRequest(conn: Connection, id: string, call: CallOptions = {}): Promise<Assumed> {
  if (conn.credentials.source.kind === 'tls-trio') return { saved: 'read-only', where: '' };
  const active = conn.identity.activeRequests.filter((r) => r !== id);
  const reissued = await reissueCertificates(conn, { accessRequests: [...active, id], signal: call.signal });
  const saved = await writeBackCredentials(conn.credentials, reissued.certPem, reissued.sshCert);
  return {
    saved,
    where: saved === 'read-only' ? '' : savedWhere(conn.credentials),
    identity: reissued.identity,
  };
}

/** What dropping requests did: the requests gone from the certificate, those kept, and its roles. */
export interface Dropped {
  dropped: string[];
  active_requests: string[];
  roles: string[];
}

/**
 * Re-issues the caller's certificate without requests `ids` (all of them when empty), as tsh's
 * `request drop` does (DropAccessRequests, `*` for all), and writes it back where it came
 * from. The caller refuses a TLS trio first: there is nothing to rewrite.
 */
export async function dropRequests(
  conn: Connection,
  ids: readonly string[],
  call: CallOptions = {},
): Promise<Dropped> {
  const active = conn.identity.activeRequests;
  const all = ids.length === 0;
  const keep = all ? [] : active.filter((id) => !ids.includes(id));
  const reissued = await reissueCertificates(conn, {
    accessRequests: keep,
    dropAccessRequests: all ? ['*'] : [...ids],
    signal: call.signal,
  });
  await writeBackCredentials(conn.credentials, reissued.certPem, reissued.sshCert);
  return {
    dropped: active.filter((id) => !reissued.identity.activeRequests.includes(id)),
    active_requests: reissued.identity.activeRequests,
    roles: reissued.identity.roles,
  };
}

/** The refusal of assume or drop with credentials that cannot be rewritten (a TLS trio). */
export const READ_ONLY_CREDENTIALS = {
  message: 'credentials from --cert/--key/--ca are read-only, so there is no certificate to re-issue',
  hint: 'use an identity file (-i) or the tsh profile',
} as const;
