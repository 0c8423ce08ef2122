import type { Connection } from '../client/index.js';

/** What `exec --lock` asks of a lock: how long it lasts (milliseconds) and what it says. */
export interface LockRequestOptions {
  ttl?: number;
  message?: string;
}

/** Upserts a Teleport lock (LockV2, target `access_request`) on request `id`. */
export type LockRequest = (conn: Connection, id: string, opts: LockRequestOptions) => Promise<unknown>;

/**
 * The seam between `access exec --lock` and request locks (issue 15, item 3), which are
 * built on another branch. Until they are merged this is undefined and `exec --lock`
 * refuses with a usage error before anything is created; merging wires it by replacing
 * this declaration with a re-export of item 3's function, e.g.
 * `export { lockRequest } from '../client/locks.js';`.
 */
export const lockRequest: LockRequest | undefined = undefined;
