import { Command } from '@commander-js/extra-typings';
import { printTable } from '../../render/table.js';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, emit, note } from './shared.js';

export interface LockLsOptions {
  /** Only locks in force now. */
  inForce: boolean;
}

export function define() {
  return new Command('ls')
    .description('List the locks on access requests (needs list and read on lock).')
    .option('--in-force', 'only locks in force now (not expired)');
}

export function parse(_args: [], flags: FlagsOf<typeof define>): LockLsOptions {
  return { inForce: flags.inForce === true };
}

export async function run(ctx: Context, opts: LockLsOptions): Promise<number> {
  const conn = await ctx.connect();
  const { listRequestLocks } = await import('../../client/locks.js');
  const locks = await listRequestLocks(conn, { ...callOpts(ctx), inForceOnly: opts.inForce, now: ctx.now() });
  await emit(ctx, locks, async () => {
    await printTable(
      ctx.io,
      ['Name', 'Access Request', 'In Force', 'Expires', 'Created By', 'Message'],
      locks.map((l) => [
        l.name,
        l.access_request,
        l.in_force ? 'yes' : 'no',
        l.expires ?? 'never',
        l.created_by,
        l.message,
      ]),
      { priority: [0, 1, 2, 3, 5, 4], required: 2, wrap: 5 },
    );
    if (locks.length === 0) note(ctx, 'hint: no request locks; lock one with `access request lock <id>`');
  });
  return 0;
}
