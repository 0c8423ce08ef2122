import type { Connection } from '../client/index.js';

/** What `exec --lock` asks of a lock: how long it lasts (milliseconds) and what it says. */
export interface LockRequestOptions {
  ttl?: number;
  message?: string;
}

/** Upserts a Teleport lock (LockV2, target `access_request`) on request `id`. */
export type LockRequest = (conn: Connection, id: string, opts: LockRequestOptions) => Promise<unknown>;

/**
 * How `access exec --lock` reaches request locks (issue 15, item 3): the client's lock,
 * loaded only when a lock is asked for.
 */
export const lockRequest: LockRequest = async (conn, id, opts) => {
  const locks = await import('../client/locks.js');
  return locks.lockRequest(conn, id, {
    ...(opts.ttl === undefined ? {} : { ttlMs: opts.ttl }),
    ...(opts.message === undefined ? {} : { message: opts.message }),
  });
};
