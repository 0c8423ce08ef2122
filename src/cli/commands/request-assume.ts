import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../model/errors.js';
import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { assume, printRequest } from './request-wait.js';
import { fetchRequest, requestIds } from './shared.js';

export interface AssumeOptions {
  id: string;
}

export function define() {
  return new Command('assume')
    .description(
      'Assume an approved request without waiting, as `tsh login --request-id` does.\n' +
        'Your certificate is re-issued with the request and written back where it came from.\n' +
        'A pending request is refused (wait for it with `access request wait`); exit 3 when it was denied.',
    )
    .argument('<id>', 'request ID');
}

export function parse([id]: ArgsOf<typeof define>, _flags: FlagsOf<typeof define>): AssumeOptions {
  const [one, ...rest] = requestIds([id]);
  if (rest.length > 0) throw new UsageError('assume takes one request ID');
  return { id: one };
}

export async function run(ctx: Context, opts: AssumeOptions): Promise<number> {
  const creds = await ctx.credentials();
  const { assumeRefusal, READ_ONLY_CREDENTIALS } = await import('../../client/reissue.js');
  if (creds.source.kind === 'tls-trio') {
    throw new UsageError(READ_ONLY_CREDENTIALS.message, READ_ONLY_CREDENTIALS.hint);
  }
  const conn = await ctx.connect();
  const req = await fetchRequest(ctx, conn, opts.id);
  const refusal = assumeRefusal(conn, req, `access request assume ${opts.id}`);
  if (refusal) throw refusal;
  await assume(ctx, conn, opts.id, `Assuming request ${opts.id}, getting updated certificates...`);
  await printRequest(ctx, req);
  return 0;
}
