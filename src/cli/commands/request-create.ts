import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import type { Connection } from '../../client/index.js';
import { parseDuration } from '../../model/duration.js';
import { AccessError, UsageError } from '../../model/errors.js';
import { requestSizeProblem } from '../../model/limits.js';
import type { AccessRequest, DryRunResult, ReasonPolicy } from '../../model/request.js';
import { formatResourceId, parseResourceId, type ResourceId } from '../../model/resource-id.js';
import { isReasonRequiredRefusal } from '../../model/server-messages.js';
import { parseRfc3339 } from '../../model/time.js';
import { escapeControls } from '../../render/escape.js';
import { printStructured } from '../../render/format.js';
import { requestDetail } from '../../render/request.js';
import { formatKeyValues, type KeyValue } from '../../render/table.js';
import type { Context } from '../context.js';
import { parseTimeout, waitAndReport } from './request-wait.js';
import { callOpts, collect, list, note, str } from './shared.js';

export interface CreateOptions {
  roles: string[];
  resources: ResourceId[];
  reason: string;
  reviewers: string[];
  requestTtlMs?: number;
  sessionTtlMs?: number;
  maxDurationMs?: number;
  assumeStartTime?: Date;
  /** Create for this user (needs the `create` rule); default: the caller. */
  user?: string;
  dryRun: boolean;
  wait: boolean;
  timeoutMs?: number;
  assume: boolean;
  /** Never ask at the terminal (a required reason missing is then a usage error). */
  noInput: boolean;
}

export function define(): Command {
  return new Command('create')
    .alias('new')
    .description(
      'Create an access request for roles or resources and, by default, wait for it to be resolved.\n' +
        'The request ID is printed on stderr as soon as the request exists. On approval the\n' +
        'certificate is re-issued with the request assumed. Exit codes: 0 approved, 3 denied,\n' +
        '4 --timeout, 5 expired or deleted, 130 interrupted (resume with `access request wait <id>`).',
    )
    .option('--roles <roles>', 'roles to request, comma-separated')
    .option('--resource <id>', 'resource ID to request (repeatable); see `access help resource-ids`', collect)
    .option('--reason <text>', 'reason for the request')
    .option('--reviewers <users>', 'suggested reviewers, comma-separated')
    .option('--request-ttl <duration>', 'how long the request may stay pending, e.g. 8h')
    .option('--session-ttl <duration>', 'how long access lasts once assumed, e.g. 8h')
    .option('--max-duration <duration>', 'longest access may be granted for, counted from creation')
    .option('--assume-start-time <rfc3339>', 'earliest time the request may be assumed')
    .option('--user <name>', 'create the request for another user (needs permission)')
    .option('--dry-run', 'validate and show the request the server would create; nothing is stored')
    .option('--wait', 'wait for the request to be resolved (the default)')
    .option('--nowait', 'return as soon as the request exists')
    .option('--timeout <duration>', 'stop waiting after this long (exit 4); the request stays pending')
    .option('--no-assume', 'do not re-issue the certificate on approval')
    .option(
      '--no-input',
      'never ask at the terminal: a required reason that is missing is an error (exit 2)',
    );
}

function positive(
  flags: Record<string, unknown>,
  key: string,
  flag: string,
  what: string,
): number | undefined {
  const text = str(flags, key);
  if (text === undefined) return undefined;
  const ms = parseDuration(text, flag);
  if (ms <= 0) throw new UsageError(`${what} value must be greater than zero`);
  return ms;
}

/** The roles and resources asked for with --roles and --resource (at least one). */
export function requestedAccess(flags: Record<string, unknown>): {
  roles: string[];
  resources: ResourceId[];
} {
  const resources = ((flags.resource as string[] | undefined) ?? []).map((s) => parseResourceId(s.trim()));
  const roles = list(flags, 'roles');
  if (roles.length === 0 && resources.length === 0) {
    throw new UsageError(
      'at least one role or resource must be specified (--roles or --resource)',
      'run `access request search --roles` or `access request search --kind node` to see what you may request',
    );
  }
  return { roles, resources };
}

export function parse(_args: unknown[], flags: Record<string, unknown>): CreateOptions {
  const { roles, resources } = requestedAccess(flags);
  if (flags.wait === true && flags.nowait === true)
    throw new UsageError('--wait and --nowait cannot be combined');
  const dryRun = flags.dryRun === true;
  const wait = flags.nowait !== true && !dryRun;
  const timeoutMs = parseTimeout(flags);
  if (timeoutMs !== undefined && !wait) throw new UsageError('--timeout applies only when waiting');
  const startText = str(flags, 'assumeStartTime');
  const reason = str(flags, 'reason') ?? '';
  const reviewers = list(flags, 'reviewers');
  const sizeProblem = requestSizeProblem({
    reason,
    resourceIds: resources.map(formatResourceId),
    reviewers,
    labels: {},
  });
  if (sizeProblem) throw new UsageError(sizeProblem);
  return {
    roles,
    resources,
    reason,
    reviewers,
    requestTtlMs: positive(flags, 'requestTtl', 'request-ttl', 'request TTL'),
    sessionTtlMs: positive(flags, 'sessionTtl', 'session-ttl', 'session TTL'),
    maxDurationMs: positive(flags, 'maxDuration', 'max-duration', 'max duration'),
    assumeStartTime: startText === undefined ? undefined : parseRfc3339(startText, 'assume-start-time'),
    user: str(flags, 'user'),
    dryRun,
    wait,
    timeoutMs,
    assume: flags.assume !== false,
    noInput: flags.input === false,
  };
}

function after(now: Date, ms: number | undefined): Date | undefined {
  return ms === undefined ? undefined : new Date(now.getTime() + ms);
}

/** What {@link createRequest} needs: the request's content, without how to wait for it. */
export type NewRequest = Pick<
  CreateOptions,
  | 'roles'
  | 'resources'
  | 'reason'
  | 'reviewers'
  | 'requestTtlMs'
  | 'sessionTtlMs'
  | 'maxDurationMs'
  | 'assumeStartTime'
  | 'user'
  | 'dryRun'
>;

/**
 * Creates (or, with dryRun, validates) an access request and returns it as the server
 * stored it. A refusal names the command that lists what may be requested.
 */
export async function createRequest(
  ctx: Context,
  conn: Connection,
  opts: NewRequest,
  onReasonPolicy?: (policy: ReasonPolicy | undefined) => void,
): Promise<AccessRequest> {
  const [{ requestFromProto, resourceIdToProto, reasonPolicyFromDryRun }, { isRpcError }] = await Promise.all(
    [import('../../client/map.js'), import('../../client/errors.js')],
  );
  const now = ctx.now();
  const id = randomUUID();
  const accessExpiry = after(now, opts.sessionTtlMs);
  // Teleport's SetExpiry writes spec.resource_expiry (v15+); metadata.expires is where older
  // servers look. Both carry the pending TTL.
  const pendingExpiry = after(now, opts.requestTtlMs);
  try {
    const proto = await conn.auth.createAccessRequestV2(
      {
        kind: 'access_request',
        version: 'v3',
        metadata: { name: id, namespace: 'default', expires: pendingExpiry },
        spec: {
          user: opts.user ?? conn.identity.username,
          roles: opts.roles,
          requestedResourceIds: opts.resources.map(resourceIdToProto),
          requestReason: opts.reason,
          suggestedReviewers: opts.reviewers,
          expires: accessExpiry,
          sessionTtl: accessExpiry,
          maxDuration: after(now, opts.maxDurationMs),
          assumeStartTime: opts.assumeStartTime,
          resourceExpiry: pendingExpiry,
          dryRun: opts.dryRun,
        },
      },
      { signal: ctx.io.signal },
    );
    const created = requestFromProto(proto);
    onReasonPolicy?.(reasonPolicyFromDryRun(proto));
    return created.id || opts.dryRun ? created : { ...created, id };
  } catch (err) {
    // PermissionDenied / InvalidArgument on create is almost always a role or resource the
    // caller may not request; point at the command that lists what is requestable.
    if (isRpcError(err) && (err.kind === 'permission' || err.kind === 'usage')) {
      const hint =
        opts.roles.length > 0
          ? 'run `access request search --roles` to list requestable roles'
          : `run \`access request search --kind ${opts.resources[0]?.kind.startsWith('kube:') ? 'kube_resource' : (opts.resources[0]?.kind ?? 'node')}\` to list requestable resources`;
      throw new AccessError(err.kind, err.message, err.hint ?? hint, { cause: err });
    }
    throw err;
  }
}

/** The line that says what a waiting command waits for, and from whom. */
export function waitingLine(req: AccessRequest, resume: string): string {
  const reviewers =
    req.suggested_reviewers.length > 0 ? ` from ${escapeControls(req.suggested_reviewers.join(', '))}` : '';
  return `Waiting for approval${reviewers} (Ctrl-C to stop; resume with: ${resume})...`;
}

export async function run(ctx: Context, opts: CreateOptions): Promise<number> {
  const conn = await ctx.connect();
  const reason =
    opts.reason === '' && !opts.dryRun
      ? await reasonIfRequired(ctx, conn, opts, async () => {
          let policy: ReasonPolicy | undefined;
          await createRequest(ctx, conn, { ...opts, dryRun: true }, (p) => {
            policy = p;
          });
          return policy;
        })
      : opts.reason;
  let served: ReasonPolicy | undefined;
  const created = await createRequest(ctx, conn, { ...opts, reason }, (p) => {
    served = p;
  });

  if (opts.dryRun) {
    note(ctx, 'Dry run: the request is valid; nothing was stored.');
    const policy = served ?? (await reasonPolicyFromCapabilities(ctx, conn, opts));
    if (ctx.format === 'text') {
      ctx.io.stdout.write(requestDetail(created, ctx.now()));
      ctx.io.stdout.write(`${formatKeyValues(reasonPolicyPairs(policy, served !== undefined))}\n`);
    } else await printStructured(ctx.io, ctx.format, { ...created, ...policy } satisfies DryRunResult);
    return 0;
  }

  const requestId = created.id;
  const shownId = escapeControls(requestId);
  note(ctx, `Created access request ${shownId} (${created.state})`);
  if (!opts.wait) {
    note(ctx, `hint: wait for it with: access request wait ${shownId}`);
    if (ctx.format === 'text') ctx.io.stdout.write(requestDetail(created, ctx.now()));
    else await printStructured(ctx.io, ctx.format, created);
    return 0;
  }
  note(ctx, waitingLine(created, `access request wait ${shownId}`));
  return waitAndReport(ctx, conn, requestId, {
    timeoutMs: opts.timeoutMs,
    assume: opts.assume,
    user: created.user,
  });
}

/** The roles' request prompt, from GetAccessCapabilities (RequestPrompt), or ''. */
async function requestPrompt(ctx: Context, conn: Connection, user: string): Promise<string> {
  const caps = await conn.auth.getAccessCapabilities({ user, requestableRoles: false }, callOpts(ctx));
  return caps.requestPrompt;
}

/**
 * The reason to send when none was given. A dry run asks the server whether this request
 * needs one (tsh does not, and the user only learns it from the refusal); if it does, a
 * person at a terminal is asked, showing the roles' prompt, and anything else gets a usage
 * error naming --reason. Nothing is created before a reason is known.
 */
async function reasonIfRequired(
  ctx: Context,
  conn: Connection,
  opts: CreateOptions,
  probe: () => Promise<ReasonPolicy | undefined>,
): Promise<string> {
  const { isRpcError } = await import('../../client/errors.js');
  let prompts: string[] = [];
  try {
    // A server that sends the dry-run enrichment says so in the answer; an older one
    // refuses the dry run (below).
    const policy = await probe();
    if (policy?.reason_mode !== 'required') return '';
    prompts = policy.reason_prompts;
  } catch (err) {
    // createRequest adds a hint and keeps the server's answer as the cause.
    const answer = isRpcError(err) ? err : (err as { cause?: unknown }).cause;
    if (!isRpcError(answer) || !isReasonRequiredRefusal(answer.code, answer.details)) return '';
  }
  const prompt =
    prompts.length > 0
      ? prompts.join('; ')
      : await requestPrompt(ctx, conn, opts.user ?? conn.identity.username);
  const ask = ctx.io.ask;
  if (!ask || opts.noInput) {
    throw new UsageError(
      `this request needs a reason: pass --reason TEXT${prompt ? ` (${escapeControls(prompt)})` : ''}`,
    );
  }
  if (prompt) note(ctx, escapeControls(prompt));
  const answer = (await ask('Reason (required): ')).trim();
  if (answer === '') throw new UsageError('a reason is required and none was given: pass --reason TEXT');
  const sizeProblem = requestSizeProblem({ reason: answer, resourceIds: [], reviewers: [], labels: {} });
  if (sizeProblem) throw new UsageError(sizeProblem);
  return answer;
}

/**
 * The reason policy of an older server, which sends no dry-run enrichment:
 * GetAccessCapabilities' require_reason and request_prompt.
 */
async function reasonPolicyFromCapabilities(
  ctx: Context,
  conn: Connection,
  opts: CreateOptions,
): Promise<ReasonPolicy> {
  const user = opts.user ?? conn.identity.username;
  const caps = await conn.auth.getAccessCapabilities({ user, requestableRoles: false }, callOpts(ctx));
  return {
    reason_mode: caps.requireReason ? 'required' : 'optional',
    reason_prompts: caps.requestPrompt ? [caps.requestPrompt] : [],
  };
}

/** What a dry run adds for people: whether a reason is required and the prompts to show. */
function reasonPolicyPairs(policy: ReasonPolicy, fromDryRun: boolean): [string, KeyValue][] {
  const pairs: [string, KeyValue][] = [
    [
      'Reason required',
      policy.reason_mode === 'required' ? 'yes' : fromDryRun ? 'no' : 'not for every request',
    ],
  ];
  if (policy.reason_prompts.length > 0) pairs.push(['Reason prompts', policy.reason_prompts]);
  return pairs;
}
