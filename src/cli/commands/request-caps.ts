import { Command } from '@commander-js/extra-typings';
import { printTable } from '../../render/table.js';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, emit } from './shared.js';

export interface CapsOptions {
  /** Whose capabilities; default: the caller. */
  user?: string;
}

export function define() {
  return new Command('caps')
    .alias('capabilities')
    .description('Show which roles you (or another user) may request and who is suggested to review.')
    .option('--user <name>', 'show the capabilities of this user');
}

export function parse(_args: [], flags: FlagsOf<typeof define>): CapsOptions {
  return { user: flags.user };
}

function joined(items: string[]): string {
  return items.length > 0 ? items.join(',') : 'None';
}

export async function run(ctx: Context, opts: CapsOptions): Promise<number> {
  const conn = await ctx.connect();
  const { getCapabilities } = await import('../../client/resources.js');
  const caps = await getCapabilities(
    conn,
    opts.user ?? conn.identity.username,
    { requestableRoles: true, suggestedReviewers: true },
    callOpts(ctx),
  );
  await emit(ctx, caps, async () => {
    const rows = [
      ['Requestable Roles:', joined(caps.requestable_roles)],
      ['Suggested Reviewers:', joined(caps.suggested_reviewers)],
      ['Require Reason:', caps.require_reason ? 'yes' : 'no'],
    ];
    if (caps.request_prompt !== '') rows.push(['Request Prompt:', caps.request_prompt]);
    await printTable(ctx.io, ['Name', 'Value'], rows, { required: 2, wrap: 1 });
  });
  return 0;
}
