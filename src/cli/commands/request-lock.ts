import { Command } from '@commander-js/extra-typings';
import { parseRequestId } from '../../model/request-id.js';
import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import {
  assertMayLock,
  type LockSpecOptions,
  lockCreatedLine,
  lockDetails,
  lockMessage,
  lockRequests,
  lockTtl,
} from './lock-shared.js';
import { emit, fetchRequest, note, resolveRequestIds } from './shared.js';

export interface LockOptions extends LockSpecOptions {
  id: string;
}

export function define() {
  return new Command('lock')
    .description(
      'Revoke an access request: a Teleport lock targeting it makes the Auth Service refuse every ' +
        'certificate that carries the request, and refuse to issue one with it (needs create and ' +
        'update on lock). Locking a request again updates its lock. Remove it with `access lock rm`.',
    )
    .argument('<id>', 'request ID')
    .option('--ttl <duration>', 'how long the lock stays in force (default: until removed)')
    .option('--message <text>', 'message shown to locked-out users');
}

export function parse([id]: ArgsOf<typeof define>, flags: FlagsOf<typeof define>): LockOptions {
  return {
    id: parseRequestId(id, true),
    ttlMs: lockTtl(flags.ttl),
    message: lockMessage(flags.message),
  };
}

export async function run(ctx: Context, opts: LockOptions): Promise<number> {
  const conn = await ctx.connect();
  // Permission first, then the request must exist: a refused or unknown lock changes nothing.
  await assertMayLock(ctx, conn);
  const [id] = await resolveRequestIds(ctx, conn, [opts.id]);
  await fetchRequest(ctx, conn, id);
  const [lock] = await lockRequests(ctx, conn, [id], opts);
  await emit(ctx, lock, () => {
    ctx.io.stdout.write(`${lockDetails(lock)}\n`);
    note(ctx, lockCreatedLine(lock));
  });
  return 0;
}
