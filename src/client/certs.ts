/**
 * Issuing credentials for another user (`access sign-helper`, as `tctl auth sign` does it):
 * the wire's messages stay here. Re-issuing the caller's own certificate is reissue.ts; the
 * key type the cluster wants is probes.ts `serverInfo`.
 */
import { certificateBlocks } from '../identity/pem.js';
import type { Connection } from './connect.js';
import { RpcError } from './errors.js';
import type { CallOptions } from './rpc.js';

/** Certificates the Auth Service issued for a public key. */
export interface IssuedCertificates {
  /** The TLS certificate, PEM; '' when none was issued. */
  certPem: string;
  /** The SSH certificate line; '' when none was asked for or issued. */
  sshCert: string;
  /** The TLS CA certificates sent along, PEM blocks. */
  tlsCaPems: string[];
  /** The SSH CA keys sent along (authorized_keys lines, one text per CA). */
  sshCaKeys: string[];
}

/**
 * Certificates for `user` (GenerateUserCerts; the caller needs impersonation rights for
 * another user) for the given public keys, expiring at `expires` unless the server caps it.
 */
export async function issueUserCertificates(
  conn: Connection,
  req: { user: string; tlsPublicKeyPem: string; sshPublicKey?: string; expires: Date },
  call: CallOptions = {},
): Promise<IssuedCertificates> {
  const certs = await conn.auth.generateUserCerts(
    {
      username: req.user,
      expires: req.expires,
      tlsPublicKey: Buffer.from(req.tlsPublicKeyPem),
      ...(req.sshPublicKey === undefined ? {} : { sshPublicKey: Buffer.from(req.sshPublicKey) }),
    },
    call,
  );
  return {
    certPem: certs.tls.toString('utf8'),
    sshCert: certs.ssh.toString('utf8').trim(),
    tlsCaPems: certs.tlsCaCerts.flatMap((b) => certificateBlocks(b.toString('utf8'))),
    sshCaKeys: certs.sshCaCerts.map((b) => b.toString('utf8')),
  };
}

/**
 * The TLS CAs to trust the server with, as tctl picks them: the cluster's (host) CA from
 * GetClusterCACert; from an older or restricted server, `fallback` and what this
 * connection already trusts. Each certificate once.
 */
export async function trustedCas(
  conn: Connection,
  fallback: readonly string[],
  call: CallOptions = {},
): Promise<string[]> {
  let cas: string[] = [];
  try {
    const reply = await conn.auth.getClusterCACert({}, call);
    cas = certificateBlocks(reply.tlsCa.toString('utf8'));
  } catch (err) {
    if (!(err instanceof RpcError) || err.kind === 'interrupted') throw err;
  }
  if (cas.length === 0) cas = [...fallback, ...conn.credentials.caPems];
  const seen = new Set<string>();
  return cas.filter((pem) => {
    const key = pem.replace(/\s+/g, '');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
