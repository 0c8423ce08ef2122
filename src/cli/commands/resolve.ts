import { Command, type OptionValues } from '@commander-js/extra-typings';
import { AccessError, EXIT_CODES, UsageError } from '../../model/errors.js';
import { parseKeyValues } from '../../model/kv.js';
import { annotationsProblem } from '../../model/limits.js';
import type { ActionResult } from '../../model/schema.js';
import { isRuleDenied } from '../../model/server-messages.js';
import { parseRfc3339 } from '../../model/time.js';
import { escapeControls } from '../../render/escape.js';
import { printStructured } from '../../render/format.js';
import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, list, note, oneValue, reasonFlag, requestIds, resolveRequestIds } from './shared.js';

/** Options shared by `approve` and `deny`, which both call SetAccessRequestState. */
export interface ResolveOptions {
  ids: string[];
  state: 'APPROVED' | 'DENIED';
  reason: string;
  annotations: Record<string, string[]>;
  /** Narrow the approved roles (approve only). */
  roles: string[];
  assumeStartTime?: Date;
  delegator: string;
}

function resolveCommand(name: 'approve' | 'deny') {
  return new Command(name)
    .description(
      `${name === 'approve' ? 'Approve' : 'Deny'} pending requests directly (needs the access_request update rule).\n` +
        'Every ID is reported; the exit code is that of the first failure.',
    )
    .argument('<ids...>', 'request IDs (commas also separate IDs)');
}

function withReason<A extends unknown[], F extends OptionValues>(cmd: Command<A, F>) {
  return cmd
    .option('--reason <text>', 'resolve reason')
    .option('--annotations <k=v,...>', 'resolve annotations; a repeated key collects values', oneValue);
}

function withDelegator<A extends unknown[], F extends OptionValues>(cmd: Command<A, F>) {
  return cmd.option('--delegator <name>', 'record this user as the one the change is made for');
}

export function defineApprove() {
  return withDelegator(
    withReason(
      resolveCommand('approve').option('--roles <roles>', 'approve only these of the requested roles'),
    ).option('--assume-start-time <rfc3339>', 'earliest time the request may be assumed'),
  );
}

export function defineDeny() {
  return withDelegator(withReason(resolveCommand('deny')));
}

/** approve's flags; deny has the same but --roles and --assume-start-time. */
type ResolveFlags = Partial<FlagsOf<typeof defineApprove>>;

export function parseResolve(
  state: ResolveOptions['state'],
  [ids]: ArgsOf<typeof defineApprove>,
  flags: ResolveFlags,
): ResolveOptions {
  const annotationsText = flags.annotations;
  const annotations = annotationsText === undefined ? {} : parseKeyValues(annotationsText, 'annotations');
  const problem = annotationsProblem(annotations);
  if (problem) throw new UsageError(problem);
  const start = flags.assumeStartTime;
  return {
    ids: requestIds(ids),
    state,
    reason: reasonFlag(flags.reason),
    annotations,
    roles: list(flags.roles),
    assumeStartTime: start === undefined ? undefined : parseRfc3339(start, 'assume-start-time'),
    delegator: flags.delegator ?? '',
  };
}

export async function runResolve(ctx: Context, opts: ResolveOptions): Promise<number> {
  const conn = await ctx.connect();
  const { setRequestState } = await import('../../client/requests.js');
  const results: ActionResult[] = [];
  let firstFailure: number | undefined;
  /** The first ID refused for want of the `update` rule: a reviewer who meant to review. */
  let reviewerInstead: string | undefined;
  const verb = opts.state === 'APPROVED' ? 'approved' : 'denied';
  for (const given of opts.ids) {
    let id = given;
    try {
      [id] = await resolveRequestIds(ctx, conn, [given]);
      await setRequestState(
        conn,
        id,
        {
          state: opts.state,
          reason: opts.reason,
          annotations: opts.annotations,
          roles: opts.roles,
          assumeStartTime: opts.assumeStartTime,
          delegator: opts.delegator,
        },
        callOpts(ctx),
      );
      results.push({ id, ok: true, state: opts.state, error: null });
      if (ctx.format === 'text') ctx.io.stdout.write(`${verb} ${id}\n`);
    } catch (err) {
      // Ctrl-C stops the whole batch rather than being reported as one ID's failure.
      if (err instanceof AccessError && err.kind === 'interrupted') throw err;
      const { isRpcError } = await import('../../client/errors.js');
      if (isRpcError(err) && isRuleDenied(err.code, err.details, 'access_request', 'update')) {
        reviewerInstead ??= id;
      }
      const message = err instanceof Error ? err.message.replace(/\s+/g, ' ') : String(err);
      const kind = err instanceof AccessError ? err.kind : 'failure';
      firstFailure ??= EXIT_CODES[kind];
      results.push({ id, ok: false, state: null, error: message });
      note(ctx, `error: ${id}: ${escapeControls(message)}`);
    }
  }
  if (reviewerInstead !== undefined) {
    // approve/deny set the state outright, which takes the access_request update rule; a
    // reviewer (review_requests) submits a review instead, which counts toward the thresholds.
    const flag = opts.state === 'APPROVED' ? '--approve' : '--deny';
    note(
      ctx,
      `hint: ${opts.state === 'APPROVED' ? 'approve' : 'deny'} needs the access_request update rule; ` +
        `as a reviewer, submit a review: access request review ${reviewerInstead} ${flag}`,
    );
  }
  if (ctx.format !== 'text') await printStructured(ctx.io, ctx.format, results);
  return firstFailure ?? 0;
}
