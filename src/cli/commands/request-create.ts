import { Command } from '@commander-js/extra-typings';
import type { Connection } from '../../client/index.js';
import type { RequestDraft } from '../../client/requests.js';
import { parseDuration } from '../../model/duration.js';
import { AccessError, UsageError } from '../../model/errors.js';
import { requestSizeProblem } from '../../model/limits.js';
import {
  type AccessRequest,
  type Capabilities,
  type DryRunResult,
  type ReasonPolicy,
  reasonPolicyFromCapabilities,
} from '../../model/request.js';
import { formatResourceId, parseResourceId, type ResourceId } from '../../model/resource-id.js';
import { parseRfc3339 } from '../../model/time.js';
import { escapeControls } from '../../render/escape.js';
import { printStructured } from '../../render/format.js';
import { requestDetail } from '../../render/request.js';
import { formatKeyValues, type KeyValue } from '../../render/table.js';
import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import type { define as defineExec } from './exec.js';
import { parseTimeout, waitAndReport } from './request-wait.js';
import { callOpts, collect, list, note } from './shared.js';

/** A request draft (client/requests.ts) and what the command does with it. */
export interface CreateOptions extends RequestDraft {
  wait: boolean;
  timeoutMs?: number;
  assume: boolean;
  /** Never ask at the terminal (a required reason missing is then a usage error). */
  noInput: boolean;
}

export function define() {
  return new Command('create')
    .alias('new')
    .description(
      'Create an access request for roles or resources and, by default, wait for it to be resolved.\n' +
        'The request ID is printed on stderr as soon as the request exists. On approval the ' +
        'certificate is re-issued with the request assumed. Exit codes: 0 approved, 3 denied, ' +
        '4 --timeout, 5 expired or deleted, 130 interrupted (resume with `access request wait <id>`).',
    )
    .argument('[resources...]', 'resource IDs to request, as with --resource')
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

function positive(text: string | undefined, flag: string, what: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text, flag);
  if (ms <= 0) throw new UsageError(`${what} value must be greater than zero`);
  return ms;
}

/** The roles and resources asked for with --roles and --resource (at least one). */
export function requestedAccess(
  flags:
    | Pick<FlagsOf<typeof define>, 'roles' | 'resource'>
    | Pick<FlagsOf<typeof defineExec>, 'roles' | 'resource'>,
): {
  roles: string[];
  resources: ResourceId[];
} {
  const resources = (flags.resource ?? []).map((s) => parseResourceId(s.trim()));
  const roles = list(flags.roles);
  if (roles.length === 0 && resources.length === 0) {
    throw new UsageError(
      'at least one role or resource must be specified (--roles or --resource)',
      'run `access request search --roles` or `access request search --kind node` to see what you may request',
    );
  }
  return { roles, resources };
}

/**
 * Resource IDs given as arguments (`access request create /local/node/ID`, as people write
 * tsh's `--resource`): each must look like one; a bare word is most likely a role.
 */
function positionalResources(words: readonly string[]): string[] {
  for (const word of words) {
    if (!word.startsWith('/')) {
      throw new UsageError(
        `${JSON.stringify(word)} is not a resource ID (arguments of create are resource IDs, /CLUSTER/KIND/NAME)`,
        `to request a role, use --roles ${word}`,
      );
    }
  }
  return [...words];
}

export function parse([ids]: ArgsOf<typeof define>, flags: FlagsOf<typeof define>): CreateOptions {
  const { roles, resources } = requestedAccess({
    roles: flags.roles,
    resource: [...positionalResources(ids), ...(flags.resource ?? [])],
  });
  if (flags.wait === true && flags.nowait === true)
    throw new UsageError('--wait and --nowait cannot be combined');
  const dryRun = flags.dryRun === true;
  const wait = flags.nowait !== true && !dryRun;
  const timeoutMs = parseTimeout(flags.timeout);
  if (timeoutMs !== undefined && !wait) throw new UsageError('--timeout applies only when waiting');
  const startText = flags.assumeStartTime;
  const reason = flags.reason ?? '';
  const reviewers = list(flags.reviewers);
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
    requestTtlMs: positive(flags.requestTtl, 'request-ttl', 'request TTL'),
    sessionTtlMs: positive(flags.sessionTtl, 'session-ttl', 'session TTL'),
    maxDurationMs: positive(flags.maxDuration, 'max-duration', 'max duration'),
    assumeStartTime: startText === undefined ? undefined : parseRfc3339(startText, 'assume-start-time'),
    user: flags.user,
    dryRun,
    wait,
    timeoutMs,
    assume: flags.assume,
    noInput: !flags.input,
  };
}

/**
 * Creates an access request and returns it as the server stored it. A refusal names the
 * command that lists what may be requested.
 */
export async function createRequest(
  ctx: Context,
  conn: Connection,
  draft: RequestDraft,
): Promise<AccessRequest> {
  return (await submit(ctx, conn, draft)).request;
}

/** Creates or (with dryRun) validates a request; a dry run also brings the reason policy it carries. */
async function submit(
  ctx: Context,
  conn: Connection,
  draft: RequestDraft,
): Promise<{ request: AccessRequest; reasonPolicy: ReasonPolicy | undefined }> {
  const [requests, { isRpcError }] = await Promise.all([
    import('../../client/requests.js'),
    import('../../client/errors.js'),
  ]);
  const call = { signal: ctx.io.signal, now: ctx.now() };
  try {
    if (draft.dryRun) return await requests.dryRunRequest(conn, draft, call);
    return { request: await requests.createRequest(conn, draft, call), reasonPolicy: undefined };
  } catch (err) {
    // PermissionDenied / InvalidArgument on create is almost always a role or resource the
    // caller may not request; point at the command that lists what is requestable.
    if (isRpcError(err) && (err.kind === 'permission' || err.kind === 'usage')) {
      const hint =
        draft.roles.length > 0
          ? 'run `access request search --roles` to list requestable roles'
          : `run \`access request search --kind ${draft.resources[0]?.kind.startsWith('kube:') ? 'kube_resource' : (draft.resources[0]?.kind ?? 'node')}\` to list requestable resources`;
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
  const reason = opts.reason === '' && !opts.dryRun ? await reasonIfRequired(ctx, conn, opts) : opts.reason;
  const { request: created, reasonPolicy: served } = await submit(ctx, conn, { ...opts, reason });

  if (opts.dryRun) {
    note(ctx, 'Dry run: the request is valid; nothing was stored.');
    const policy =
      served ??
      reasonPolicyFromCapabilities(await capabilities(ctx, conn, opts.user ?? conn.identity.username));
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

/** The capabilities that say whether a reason is required and what the roles' prompt is. */
async function capabilities(ctx: Context, conn: Connection, user: string): Promise<Capabilities> {
  const { getCapabilities } = await import('../../client/resources.js');
  return getCapabilities(conn, user, { requestableRoles: false }, callOpts(ctx));
}

/**
 * The reason to send when none was given. A dry run asks the server whether this request
 * needs one (tsh does not, and the user only learns it from the refusal): a newer server
 * says so in the dry run's answer with the prompts to show, an older one refuses the dry
 * run. If one is needed, a person at a terminal is asked, showing the prompts, and
 * anything else gets a usage error naming --reason. Nothing is created before a reason is
 * known.
 */
async function reasonIfRequired(ctx: Context, conn: Connection, opts: CreateOptions): Promise<string> {
  const { dryRunRequest, isReasonRequired } = await import('../../client/requests.js');
  let prompts: string[] = [];
  try {
    const { reasonPolicy } = await dryRunRequest(conn, opts, { signal: ctx.io.signal, now: ctx.now() });
    if (reasonPolicy?.reason_mode !== 'required') return '';
    prompts = reasonPolicy.reason_prompts;
  } catch (err) {
    // Any other refusal is the real create's to report.
    if (!isReasonRequired(err)) return '';
  }
  const prompt =
    prompts.length > 0
      ? prompts.join('; ')
      : (await capabilities(ctx, conn, opts.user ?? conn.identity.username)).request_prompt;
  const ask = ctx.io.ask;
  if (!ask || opts.noInput) {
    throw new UsageError(
      `this request needs a reason: pass --reason TEXT${prompt ? ` (${escapeControls(prompt)})` : ''}`,
    );
  }
  if (prompt) note(ctx, escapeControls(prompt));
  // An empty answer (Enter pressed too soon) is asked once more before giving up.
  let answer = (await ask('Reason (required): ')).trim();
  if (answer === '') {
    note(ctx, 'A reason is required; type one, or press Enter again to give up.');
    answer = (await ask('Reason (required): ')).trim();
  }
  if (answer === '') throw new UsageError('a reason is required and none was given: pass --reason TEXT');
  const sizeProblem = requestSizeProblem({ reason: answer, resourceIds: [], reviewers: [], labels: {} });
  if (sizeProblem) throw new UsageError(sizeProblem);
  return answer;
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
