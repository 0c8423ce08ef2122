/**
 * What `access sign-helper` checks: the targets before anything is asked, the issued
 * certificate before anything is written, and (--verify) the written credentials afterwards.
 */
import { lstat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Connection } from '../../client/index.js';
import type { AccessRequestRights } from '../../client/probes.js';
import { formatDuration } from '../../model/duration.js';
import { AccessError, UsageError } from '../../model/errors.js';
import { toIsoOrNull } from '../../model/time.js';
import type { Context } from '../context.js';
import { callOpts, note } from './shared.js';
import { type Targets, targetList } from './sign-helper-output.js';

/** An issued certificate this much shorter than asked means the server capped it (tctl's margin). */
const TTL_SLACK_MS = 60_000;

/** Refuses (usage error, before any server call) to write over files or into a missing directory. */
export async function preflight(t: Targets, overwrite: boolean): Promise<void> {
  for (const path of targetList(t)) {
    const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new UsageError(`cannot check "${path}": ${err.code ?? err.message}`);
    });
    if (st?.isDirectory())
      throw new UsageError(`"${path}" is a directory: give --out a file prefix inside it`);
    if (st && !overwrite) {
      throw new UsageError(`refusing to overwrite "${path}"`, 'pass --overwrite to replace it');
    }
  }
  const dir = dirname(targetList(t)[0]);
  const dst = await lstat(dir).catch(() => undefined);
  if (!dst?.isDirectory()) throw new UsageError(`cannot write to "${dir}": no such directory`);
}

/**
 * Refuses a certificate that does not belong to the generated key or names another user:
 * nothing is written then.
 */
export async function checkIssuedCertificate(keyPem: string, certPem: string, user: string): Promise<void> {
  const { keyPairProblem } = await import('../../identity/pem.js');
  const { parseIdentity } = await import('../../identity/index.js');
  if (!certPem.includes('CERTIFICATE') || keyPairProblem(keyPem, certPem) !== undefined) {
    throw new AccessError(
      'failure',
      'the server returned no TLS certificate for the generated key; nothing was written',
    );
  }
  const issuedFor = parseIdentity(certPem).username;
  if (issuedFor !== user) {
    throw new AccessError(
      'failure',
      `the server issued a certificate for ${JSON.stringify(issuedFor)} instead of ${JSON.stringify(user)}; nothing was written`,
    );
  }
}

/**
 * A lifetime for people: X.509 times have whole seconds and the server's clock is not
 * ours, so an issued 12h reads 11h59m59s when measured exactly; past two minutes it is
 * rounded to the minute.
 */
export function lifetime(ms: number): string {
  const unit = ms >= 120_000 ? 60_000 : 1000;
  return formatDuration(Math.max(0, Math.round(ms / unit) * unit));
}

/**
 * Refuses a certificate the server shortened by more than a minute (tctl does the same):
 * a plugin would otherwise stop working long before its operator expects.
 */
export function checkIssuedTtl(opts: {
  user: string;
  ttlText: string;
  requested: Date;
  issued: Date;
  now: Date;
}): void {
  if (opts.issued.getTime() >= opts.requested.getTime() - TTL_SLACK_MS) return;
  const valid = lifetime(opts.issued.getTime() - opts.now.getTime());
  throw new UsageError(
    `the requested TTL of ${opts.ttlText} exceeds the maximum allowed for ${JSON.stringify(opts.user)} (issued certificate is valid for ${valid}); nothing was written`,
    `lower --ttl to at most ${valid}, or raise max_session_ttl in the roles of ${JSON.stringify(opts.user)}`,
  );
}

/** What --verify found out; exported for tests of the rendering. */
export interface VerifyReport extends AccessRequestRights {
  address: string;
  user: string;
  roles: string[];
  expires: Date;
}

export function verifyLines(r: VerifyReport, now: Date): string[] {
  const left = lifetime(r.expires.getTime() - now.getTime());
  const update =
    r.update === true
      ? 'yes (SetAccessRequestState passed the permission check)'
      : r.update === false
        ? 'no (PermissionDenied): enough for a notify-only plugin, not for one that approves or denies'
        : r.update === 'mfa'
          ? 'refused: the cluster wants MFA for admin actions from this identity (it was signed by a person); ' +
            'sign it with `tctl auth sign` on the Auth host or use a Machine ID bot identity'
          : `unknown (${r.update})`;
  return [
    `verify: connected to ${r.address} (cluster ${JSON.stringify(r.cluster)}, Teleport ${r.serverVersion || 'unknown'}) as ${JSON.stringify(r.user)} with roles ${r.roles.join(', ') || '(none)'}`,
    `verify: access_request list/read: ListAccessRequests succeeded, ${r.visible}${r.more ? '+' : ''} request(s) visible (without list/read rules only the user's own and reviewable requests are shown)`,
    `verify: access_request update: ${update}`,
    `verify: certificate expires ${toIsoOrNull(r.expires)} (in ${left})`,
  ];
}

/**
 * Connects with the files just written (read back from disk, so what is checked is what
 * the plugin will load) to the same address, and probes access_request permissions.
 * `update` is probed with SetAccessRequestState on a random request ID: the server checks
 * the rule before looking the request up, so PermissionDenied means no `update` and
 * NotFound means the rule allows it. The report goes to stderr: stdout holds the
 * configuration or the JSON result.
 */
export async function verify(ctx: Context, signer: Connection, t: Targets): Promise<void> {
  const identity = await import('../../identity/index.js');
  const { connect } = await import('../../client/connect.js');
  const credentials =
    t.kind === 'file'
      ? await identity.readIdentityFile(t.identity)
      : await identity.readTlsTrio(t.crt, t.key, t.cas);
  const g = ctx.globals;
  const viaProxy = g.authServer === undefined;
  let conn: Connection | undefined;
  try {
    conn = await connect({
      credentials,
      ...(viaProxy ? { proxy: signer.address } : { authServer: signer.address }),
      ...(g.tlsServerName === undefined ? {} : { tlsServerName: g.tlsServerName }),
      ...(signer.clusterName === undefined ? {} : { clusterName: signer.clusterName }),
      rpcTimeoutMs: g.rpcTimeoutMs,
    });
    const { probeAccessRequestRights } = await import('../../client/probes.js');
    const rights = await probeAccessRequestRights(conn, callOpts(ctx));
    const report: VerifyReport = {
      address: conn.address,
      user: conn.identity.username,
      roles: conn.identity.roles,
      expires: conn.identity.expires,
      ...rights,
    };
    for (const line of verifyLines(report, ctx.now())) note(ctx, line);
  } catch (err) {
    if (err instanceof AccessError && err.kind !== 'interrupted') {
      throw new AccessError(
        err.kind,
        `verification with the new credentials failed: ${err.message}`,
        'the files were written; check them with `access request ls` and their --cert/--key/--ca or -i',
        { cause: err },
      );
    }
    throw err;
  } finally {
    conn?.close();
  }
}
