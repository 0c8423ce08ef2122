import type { Connection } from '../../client/index.js';
import { parseDuration } from '../../model/duration.js';
import { UsageError } from '../../model/errors.js';
import type { RequestLock } from '../../model/lock.js';
import { formatKeyValues } from '../../render/table.js';
import type { Context } from '../context.js';
import { callOpts } from './shared.js';

/** What a lock on a request says besides its target. */
export interface LockSpecOptions {
  /** ms; undefined = in force until removed. */
  ttlMs?: number;
  message?: string;
}

/** `--ttl`: a positive duration (a lock with a TTL of 0 would never be in force). */
export function lockTtl(value: string | undefined, flag = '--ttl'): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value, flag);
  if (ms <= 0)
    throw new UsageError(
      `${flag} must be longer than 0 (e.g. 30m or 8h); leave it out for a lock that stays until removed`,
    );
  return ms;
}

/** `--message`: omitted means none; an empty one is refused, as it would say nothing. */
export function lockMessage(value: string | undefined, flag = '--message'): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '')
    throw new UsageError(`${flag} is empty; give the text locked-out users should see, or leave it out`);
  return value;
}

/** Checks the caller may upsert locks (before anything changes); PermissionDenied otherwise. */
export async function assertMayLock(ctx: Context, conn: Connection): Promise<void> {
  const { assertMayLock: probe } = await import('../../client/locks.js');
  await probe(conn, callOpts(ctx));
}

/** Locks each request and returns the locks as stored. */
export async function lockRequests(
  ctx: Context,
  conn: Connection,
  ids: readonly string[],
  spec: LockSpecOptions,
): Promise<RequestLock[]> {
  const { lockRequest } = await import('../../client/locks.js');
  const out: RequestLock[] = [];
  for (const id of ids) {
    out.push(
      await lockRequest(conn, id, {
        ...callOpts(ctx),
        ttlMs: spec.ttlMs,
        message: spec.message,
        now: () => ctx.now(),
      }),
    );
  }
  return out;
}

/** tctl's confirmation (tool/tctl/common/lock_command.go: CreateLock), one line a lock. */
export function lockCreatedLine(lock: RequestLock): string {
  return `Created a lock with name ${JSON.stringify(lock.name)}.`;
}

/** The details of one lock, as a key/value block. */
export function lockDetails(lock: RequestLock): string {
  return formatKeyValues([
    ['Lock', lock.name],
    ['Access Request', lock.access_request],
    ['Message', lock.message || '[none]'],
    ['Expires', lock.expires ?? 'never'],
    ['Created By', lock.created_by],
  ]);
}
