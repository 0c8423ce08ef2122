/**
 * A Teleport lock on an access request, as `access` shows it: every certificate carrying
 * the request is refused by the Auth Service while the lock is in force.
 */
export interface RequestLock {
  /** The lock's name (`access-request-<id>` for locks made by `access`). */
  name: string;
  /** ID of the locked access request. */
  access_request: string;
  /** Message shown to locked-out users; empty when none. */
  message: string;
  /** When the lock stops being in force, RFC 3339 UTC; null = never. */
  expires: string | null;
  /** When the lock was made, RFC 3339 UTC; null when the server did not say. */
  created: string | null;
  created_by: string;
  /** Whether the lock is in force now (not expired). */
  in_force: boolean;
}

/**
 * The name `access` gives the lock of one request, so locking a request again updates its
 * lock instead of adding another (tctl names each new lock with a random UUID).
 */
export function requestLockName(id: string): string {
  return `access-request-${id}`;
}
