import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../model/errors.js';
import type { LockRmResult } from '../../model/schema.js';
import { escapeControls } from '../../render/escape.js';
import type { ArgsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, emit } from './shared.js';

export interface LockRmOptions {
  names: string[];
}

export function define() {
  return new Command('rm')
    .description(
      'Remove locks by name (needs delete on lock). Certificates carrying the request work again ' +
        'until they expire; requests dropped or deleted meanwhile stay dropped or deleted.',
    )
    .argument('<names...>', 'lock names, as `access lock ls` shows them');
}

export function parse([names]: ArgsOf<typeof define>): LockRmOptions {
  if (names.some((n) => n.trim() === ''))
    throw new UsageError('a lock name is empty; see the names with `access lock ls`');
  return { names };
}

export async function run(ctx: Context, opts: LockRmOptions): Promise<number> {
  const conn = await ctx.connect();
  const { assertLockExists, deleteLock } = await import('../../client/locks.js');
  // With several names, every lock must exist before any is removed (NotFound, exit 6).
  if (opts.names.length > 1) for (const name of opts.names) await assertLockExists(conn, name, callOpts(ctx));
  const deleted: string[] = [];
  for (const name of opts.names) {
    await deleteLock(conn, name, callOpts(ctx));
    deleted.push(name);
  }
  const result: LockRmResult = { deleted };
  await emit(ctx, result, () => {
    for (const name of deleted)
      ctx.io.stdout.write(`Lock ${escapeControls(JSON.stringify(name))} removed.\n`);
  });
  return 0;
}
