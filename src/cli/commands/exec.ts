import { constants as fsConstants } from 'node:fs';
import { access, chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import type { Connection } from '../../client/index.js';
import { describeFsError } from '../../identity/files.js';
import { cannotAssumeReason } from '../../identity/types.js';
import { parseDuration } from '../../model/duration.js';
import { AccessError, UsageError } from '../../model/errors.js';
import { requestSizeProblem } from '../../model/limits.js';
import type { AccessRequest } from '../../model/request.js';
import { findReusable } from '../../model/request-reuse.js';
import { formatResourceId, type ResourceId } from '../../model/resource-id.js';
import { isLockOnRequest } from '../../model/server-messages.js';
import { escapeControls } from '../../render/escape.js';
import type { ChildExit, ChildHandle, IO } from '../../render/io.js';
import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { type LockRequest, lockRequest } from '../lock-seam.js';
import { createRequest, requestedAccess, waitingLine } from './request-create.js';
import { parseTimeout, waitFailure, waitWithSpinner } from './request-wait.js';
import { callOpts, collect, note } from './shared.js';

export interface ExecOptions {
  roles: string[];
  resources: ResourceId[];
  reason: string;
  maxDurationMs?: number;
  timeoutMs?: number;
  lock: boolean;
  command: string;
  args: string[];
}

/** What exec needs from other parts of the program; injected so tests can stand in. */
export interface ExecDeps {
  /** Locks a request (issue 15 item 3); undefined where locks are not available. */
  lockRequest?: LockRequest;
}

const EXAMPLE = "access exec --roles dba --reason 'ticket 42' -- psql -h db";

/** What to run again to keep waiting: exec finds the pending request and reuses it. */
const RESUME = 'the same `access exec` command (it reuses the pending request)';

export function define() {
  return new Command('exec')
    .description(
      'Run one command with elevated access: reuse a matching approved or pending request of yours ' +
        '(or create one), wait for approval, and run COMMAND with a temporary identity file carrying ' +
        'the request (TELEPORT_IDENTITY_FILE and ACCESS_IDENTITY point at it). Your own credentials are ' +
        'not modified; the temporary identity is deleted when COMMAND ends, also on Ctrl-C. SIGINT, ' +
        'SIGTERM and SIGHUP are passed on to COMMAND. Exit codes: those of COMMAND once it ran (128+n ' +
        'when killed by signal n); before that 3 denied, 4 --timeout, 5 expired, 9 these credentials ' +
        'cannot assume requests, 130 interrupted.',
    )
    .usage('(--roles R | --resource ID)... --reason TEXT [options] -- COMMAND [ARGS...]')
    .argument('[command...]', 'the command to run and its arguments, after --')
    .option('--roles <roles>', 'roles to request, comma-separated (repeatable)', collect)
    .option('--resource <id>', 'resource ID to request (repeatable); see `access help resource-ids`', collect)
    .option('--reason <text>', 'why you need the access (required)')
    .option('--max-duration <duration>', 'longest access may be granted for, counted from creation')
    .option('--timeout <duration>', 'stop waiting for approval after this long (exit 4)')
    .option(
      '--lock',
      'use a request of its own (never reuse one) and lock it once COMMAND ends, so nothing issued with it works any more',
    )
    .passThroughOptions()
    .addHelpText('after', `\nExample:\n  access exec --roles dba \\\n    --reason 'ticket 42' -- psql -h db`);
}

export function parse([words]: ArgsOf<typeof define>, flags: FlagsOf<typeof define>): ExecOptions {
  const [command, ...rest] = words;
  if (command === undefined || command === '') {
    throw new UsageError('no command to run: give it after --', `e.g. ${EXAMPLE}`);
  }
  const { roles, resources } = requestedAccess(flags);
  const reasonText = flags.reason;
  if (reasonText === undefined) throw new UsageError('--reason is required: say why you need the access');
  const reason = reasonText.trim();
  if (reason === '') throw new UsageError('--reason must not be empty: say why you need the access');
  const sizeProblem = requestSizeProblem({
    reason,
    resourceIds: resources.map(formatResourceId),
    reviewers: [],
    labels: {},
  });
  if (sizeProblem) throw new UsageError(sizeProblem);
  const maxText = flags.maxDuration;
  const maxDurationMs = maxText === undefined ? undefined : parseDuration(maxText, 'max-duration');
  if (maxDurationMs !== undefined && maxDurationMs <= 0)
    throw new UsageError('max duration value must be greater than zero');
  return {
    roles,
    resources,
    reason,
    maxDurationMs,
    timeoutMs: parseTimeout(flags.timeout),
    lock: flags.lock === true,
    command,
    args: rest,
  };
}

/**
 * Whether `command` can be started: a path must name an executable file; a bare name must
 * be one in a PATH directory. Checked before anything is created, so a typo does not
 * bother a reviewer.
 */
async function findExecutable(command: string, path: string): Promise<boolean> {
  const runnable = async (file: string) => {
    try {
      await access(file, fsConstants.X_OK);
      return (await stat(file)).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/')) return runnable(command);
  for (const dir of path.split(delimiter)) {
    if (await runnable(join(dir || '.', command))) return true;
  }
  return false;
}

/** Our exit code for how COMMAND ended: its own code, or 128+n when signal n killed it. */
export function exitCodeOf(exit: ChildExit): number {
  if (exit.code !== null) return exit.code;
  const n = exit.signal ? osConstants.signals[exit.signal] : undefined;
  return n === undefined ? 1 : 128 + n;
}

/** The caller's own requests, as the server lets them read them. */
async function ownRequests(ctx: Context, conn: Connection): Promise<AccessRequest[]> {
  const { userRequests } = await import('../../client/requests.js');
  const found: AccessRequest[] = [];
  for await (const r of userRequests(conn, conn.identity.username, callOpts(ctx))) found.push(r);
  return found;
}

/**
 * The caller's requests that no lock in force targets, where the caller may list locks: a
 * locked request can no longer be assumed (GenerateUserCerts refuses it), so it is never
 * reused. A caller who may not list locks learns it when the certificate is refused (run).
 */
async function unlockedOwnRequests(ctx: Context, conn: Connection): Promise<AccessRequest[]> {
  const { lockedRequestIds } = await import('../../client/locks.js');
  const opts = { ...callOpts(ctx), timeoutMs: conn.rpcTimeoutMs, now: ctx.now() };
  const [own, locked] = await Promise.all([ownRequests(ctx, conn), lockedRequestIds(conn, opts)]);
  return locked ? own.filter((r) => !locked.has(r.id)) : own;
}

/**
 * An approved request for what `opts` asks: one of the caller's that already exists
 * (approved, or pending and then waited on), else a new one, waited on. With --lock the
 * request is always a new one: the lock revokes it for everyone who holds it, so it must
 * not be one another `exec` is using.
 */
async function approvedRequest(
  ctx: Context,
  conn: Connection,
  opts: ExecOptions,
  reuse = !opts.lock,
): Promise<AccessRequest> {
  const want = {
    user: conn.identity.username,
    roles: opts.roles,
    resources: opts.resources.map(formatResourceId),
  };
  let req = reuse ? findReusable(await unlockedOwnRequests(ctx, conn), want, ctx.now()) : undefined;
  if (req?.state === 'APPROVED') {
    note(ctx, `Using approved access request ${escapeControls(req.id)}`);
    return req;
  }
  if (req) {
    note(ctx, `Reusing pending access request ${escapeControls(req.id)}`);
  } else {
    req = await createRequest(ctx, conn, {
      roles: opts.roles,
      resources: opts.resources,
      reason: opts.reason,
      reviewers: [],
      maxDurationMs: opts.maxDurationMs,
      dryRun: false,
    });
    note(ctx, `Created access request ${escapeControls(req.id)} (${req.state})`);
    if (req.state === 'APPROVED') return req;
  }
  note(ctx, waitingLine(req, RESUME));
  const { outcome, request } = await waitWithSpinner(ctx, conn, req.id, {
    timeoutMs: opts.timeoutMs,
    user: req.user,
  });
  if (outcome !== 'approved') throw waitFailure(outcome, req.id, request, RESUME);
  if (request?.resolve_reason)
    note(ctx, `Approved, reason=${escapeControls(JSON.stringify(request.resolve_reason))}`);
  return request ?? req;
}

/** The child's environment: ours, pointed at the temporary identity and the same server. */
function childEnv(ctx: Context, conn: Connection, identityPath: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined) env[k] = v;
  env.TELEPORT_IDENTITY_FILE = identityPath;
  env.ACCESS_IDENTITY = identityPath;
  // Flags are not inherited: the address and cluster they chose travel as variables.
  const g = ctx.globals;
  const source = conn.credentials.source;
  const proxy = g.proxy ?? (source.kind === 'tsh-profile' ? source.proxyAddr : undefined);
  if (g.authServer) {
    env.ACCESS_AUTH_SERVER = g.authServer;
    delete env.ACCESS_PROXY;
  } else if (proxy) {
    env.ACCESS_PROXY = proxy;
    delete env.ACCESS_AUTH_SERVER;
  }
  if (g.cluster) env.TELEPORT_CLUSTER = g.cluster;
  return env;
}

/**
 * Writes an identity file carrying request `id` for a fresh key into a new private
 * directory (0700, the file 0600), runs COMMAND with it in the foreground, and removes the
 * directory however COMMAND ends. Returns how COMMAND ended.
 */
async function runWithIdentity(
  ctx: Context,
  conn: Connection,
  id: string,
  opts: ExecOptions,
  spawnChild: NonNullable<IO['spawnChild']>,
): Promise<ChildExit> {
  const { issueFreshIdentity } = await import('../../client/reissue.js');
  const { formatIdentityFile, writeFileAtomic } = await import('../../identity/index.js');
  const fresh = await issueFreshIdentity(conn, { accessRequests: [id], ...callOpts(ctx) });
  const tmp = ctx.env.TMPDIR || tmpdir();
  const procs = ctx.io.processes;
  const { execIdentityPrefix, removeStaleExecIdentities } = await import('../../identity/temp-identity.js');
  if (procs) await removeStaleExecIdentities(tmp, procs);
  const dir = await mkdtemp(procs ? execIdentityPrefix(tmp, procs.pid) : join(tmp, 'access-exec-'));
  try {
    await chmod(dir, 0o700);
    const file = join(dir, 'identity');
    await writeFileAtomic(file, formatIdentityFile(fresh.contents), 0o600);
    const { username, roles } = fresh.identity;
    note(ctx, escapeControls(`Running ${opts.command} as ${username} with roles ${roles.join(', ')}`));
    // Spawning and trapping happen in one turn of the event loop, so no signal falls between them.
    if (ctx.io.signal?.aborted) throw new AccessError('interrupted', 'interrupted before COMMAND started');
    let child: ChildHandle;
    try {
      child = spawnChild(opts.command, opts.args, childEnv(ctx, conn, file));
    } catch (err) {
      throw cannotRun(opts.command, err);
    }
    const release = ctx.io.trapSignals?.((sig) => child.kill(sig));
    try {
      return await child.exited;
    } catch (err) {
      throw cannotRun(opts.command, err);
    } finally {
      release?.();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** COMMAND was found when checked but could not be started (removed since, or not a program). */
function cannotRun(command: string, err: unknown): AccessError {
  const message = `cannot run ${JSON.stringify(command)}: ${describeFsError(err)}`;
  return new AccessError('failure', message, undefined, { cause: err });
}

/** How long a lock must last: until the request's access ends, when that is known. */
function lockTtl(req: AccessRequest, now: Date): number | undefined {
  if (req.access_expires === null) return undefined;
  const left = Date.parse(req.access_expires) - now.getTime();
  return left > 0 ? left : undefined;
}

export async function run(
  ctx: Context,
  opts: ExecOptions,
  deps: ExecDeps = { lockRequest },
): Promise<number> {
  // Refused before anything exists: --lock must never be skipped silently.
  const lock = deps.lockRequest;
  if (opts.lock && !lock) {
    throw new UsageError('--lock is not available: this build of access has no request locks');
  }
  if (!(await findExecutable(opts.command, ctx.env.PATH ?? ''))) {
    throw new UsageError(
      `command not found or not executable: ${JSON.stringify(opts.command)}`,
      'give a program on PATH or a path to an executable file after --',
    );
  }
  const spawnChild = ctx.io.spawnChild;
  if (!spawnChild) throw new AccessError('failure', 'this environment cannot start processes');
  const conn = await ctx.connect();
  const refused = cannotAssumeReason(conn.identity);
  if (refused) {
    throw new AccessError(
      'not-assumed',
      `this identity cannot assume access requests: ${refused}`,
      'use credentials from `tsh login` (or an identity file from `tsh login --out FILE`)',
    );
  }
  let req = await approvedRequest(ctx, conn, opts);
  let exit: ChildExit;
  try {
    exit = await runWithIdentity(ctx, conn, req.id, opts, spawnChild);
  } catch (err) {
    // A reused request that a lock now targets: the certificate was refused before COMMAND
    // started, so make a request of our own instead.
    const { isRpcError } = await import('../../client/errors.js');
    if (opts.lock || !isRpcError(err) || !isLockOnRequest(err.message, req.id)) throw err;
    note(ctx, `Access request ${escapeControls(req.id)} is locked; requesting access again`);
    req = await approvedRequest(ctx, conn, opts, false);
    exit = await runWithIdentity(ctx, conn, req.id, opts, spawnChild);
  }
  if (opts.lock && lock) {
    await lock(conn, req.id, {
      ttl: lockTtl(req, ctx.now()),
      message: `locked by access exec after ${opts.command} ended`,
    });
    note(ctx, `Locked access request ${escapeControls(req.id)}`);
  }
  return exitCodeOf(exit);
}
