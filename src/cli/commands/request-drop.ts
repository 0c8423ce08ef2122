import { Command } from '@commander-js/extra-typings';
import { AccessError, UsageError } from '../../model/errors.js';
import { isRequestIdPrefix, matchRequestId } from '../../model/request-id.js';
import type { DropResult } from '../../model/schema.js';
import { formatKeyValues } from '../../render/table.js';
import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { assertMayLock, lockCreatedLine, lockRequests } from './lock-shared.js';
import { ambiguousPrefix, callOpts, emit, note, requestIds } from './shared.js';

export interface DropOptions {
  /** Requests to drop; empty means all active requests. */
  ids: string[];
  /** Also lock the dropped requests, so no other copy of the old certificate keeps them. */
  lock: boolean;
}

export function define() {
  return new Command('drop')
    .description(
      'Re-issue your certificate without the given assumed requests (all when none are given), ' +
        'returning to your base roles. Nothing is deleted on the server.',
    )
    .argument('[ids...]', 'request IDs to drop (default: all)')
    .option(
      '--lock',
      'also lock the dropped requests (see `access request lock`), so copies of the old certificate stop working',
    );
}

/** A whole ID as given; the start of one (issue 23) as the one active request it names. */
function activeId(id: string, active: readonly string[]): string {
  if (!isRequestIdPrefix(id)) return id;
  const match = matchRequestId(id, active);
  if (match === undefined) {
    throw new AccessError(
      'not-found',
      `no access request assumed by your certificate starts with ${JSON.stringify(id)}`,
    );
  }
  if (Array.isArray(match)) throw ambiguousPrefix(id, match);
  return match;
}

export function parse([given]: ArgsOf<typeof define>, flags: FlagsOf<typeof define>): DropOptions {
  const ids = requestIds(given, ['*']);
  return { ids: ids.includes('*') ? [] : ids, lock: flags.lock === true };
}

export async function run(ctx: Context, opts: DropOptions): Promise<number> {
  const creds = await ctx.credentials();
  const { dropRequests, READ_ONLY_CREDENTIALS } = await import('../../client/reissue.js');
  if (creds.source.kind === 'tls-trio') {
    throw new UsageError(READ_ONLY_CREDENTIALS.message, READ_ONLY_CREDENTIALS.hint);
  }
  // Elevated identities a killed `access exec` left behind are dropped too.
  const procs = ctx.io.processes;
  if (procs) {
    const { removeStaleExecIdentities } = await import('../../identity/temp-identity.js');
    const { tmpdir } = await import('node:os');
    await removeStaleExecIdentities(ctx.env.TMPDIR || tmpdir(), procs);
  }
  const conn = await ctx.connect();
  // Refused before anything changes when the caller may not lock.
  if (opts.lock) await assertMayLock(ctx, conn);
  const active = conn.identity.activeRequests;
  opts = { ...opts, ids: opts.ids.map((id) => activeId(id, active)) };
  const all = opts.ids.length === 0;
  note(
    ctx,
    all ? 'Dropping all active access requests...' : `Dropping access request(s): ${opts.ids.join(', ')}...`,
  );
  const { dropped, active_requests, roles } = await dropRequests(conn, opts.ids, callOpts(ctx));
  // The lock goes out with the new certificate: the Auth Service refuses the old one once the
  // lock is in force. Named requests are locked even when this certificate did not carry them.
  const locks = opts.lock ? await lockRequests(ctx, await ctx.reconnect(), all ? dropped : opts.ids, {}) : [];
  for (const l of locks) note(ctx, lockCreatedLine(l));
  const result: DropResult = {
    dropped,
    active_requests,
    roles,
    locked: locks.map((l) => l.name),
  };
  await emit(ctx, result, () => {
    ctx.io.stdout.write(
      `${formatKeyValues([
        ['Dropped', result.dropped.join(', ') || '[none]'],
        ['Active Requests', result.active_requests.join(', ') || '[none]'],
        ['Roles', result.roles.join(', ')],
      ])}\n`,
    );
  });
  return 0;
}
