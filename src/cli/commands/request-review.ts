import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../model/errors.js';
import { parseRfc3339 } from '../../model/time.js';
import { printStructured } from '../../render/format.js';
import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, note, reasonFlag, requestIds, resolveRequestIds } from './shared.js';

export interface ReviewOptions {
  id: string;
  approve: boolean;
  reason: string;
  assumeStartTime?: Date;
}

export function define() {
  return new Command('review')
    .description(
      'Submit your review of a request; the request is resolved once its thresholds are met.\n' +
        'JSON/YAML output is the request after the review.',
    )
    .argument('<id>', 'request ID')
    .option('--approve', 'propose approval')
    .option('--deny', 'propose denial')
    .option('--reason <text>', 'reason for the review')
    .option('--assume-start-time <rfc3339>', 'propose an earlier or later start time');
}

export function parse(args: ArgsOf<typeof define>, flags: FlagsOf<typeof define>): ReviewOptions {
  const [id, ...rest] = requestIds(args);
  if (rest.length > 0) throw new UsageError('review takes one request ID');
  if ((flags.approve === true) === (flags.deny === true)) {
    throw new UsageError("must supply exactly one of '--approve' or '--deny'");
  }
  const start = flags.assumeStartTime;
  return {
    id,
    approve: flags.approve === true,
    reason: reasonFlag(flags.reason),
    assumeStartTime: start === undefined ? undefined : parseRfc3339(start, 'assume-start-time'),
  };
}

export async function run(ctx: Context, opts: ReviewOptions): Promise<number> {
  const conn = await ctx.connect();
  const [id] = await resolveRequestIds(ctx, conn, [opts.id]);
  const { reviewRequest } = await import('../../client/requests.js');
  const proposal = opts.approve ? 'APPROVED' : 'DENIED';
  const req = await reviewRequest(
    conn,
    id,
    { proposal, reason: opts.reason, created: ctx.now(), assumeStartTime: opts.assumeStartTime },
    callOpts(ctx),
  );
  if (req.state === 'PENDING' || req.state === proposal) {
    note(ctx, `Successfully submitted review.  Request state: ${req.state}`);
  } else {
    note(ctx, `Warning: ineffectual review. Request state: ${req.state}`);
  }
  if (ctx.format !== 'text') await printStructured(ctx.io, ctx.format, req);
  return 0;
}
