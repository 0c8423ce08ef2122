/**
 * Locks on access requests over the wire: UpsertLock / GetLocks / DeleteLock. A lock whose
 * target is a request makes the Auth Service refuse every certificate that carries it, and
 * refuse to issue one with it (lib/services/lock.go, lib/auth/auth.go: generateUserCert).
 */
import { randomUUID } from 'node:crypto';
import type { LockV2 } from '../gen/teleport/legacy/types/types.js';
import { type RequestLock, requestLockName } from '../model/lock.js';
import { toIsoOrNull } from '../model/time.js';
import type { Connection } from './connect.js';
import { isRpcError } from './errors.js';
import type { CallOptions } from './rpc.js';

export interface LockRequestOptions extends CallOptions {
  /** How long the lock stays in force, ms; undefined = until removed. */
  ttlMs?: number;
  /** Shown to locked-out users after Teleport's `lock targeting … is in force: `. */
  message?: string;
  /** The clock the expiry is counted from. */
  now?: () => Date;
}

/** The model view of a lock, or undefined when it does not target an access request. */
export function requestLockFromProto(lock: LockV2, now: Date): RequestLock | undefined {
  const id = lock.spec?.target?.accessRequest ?? '';
  if (id === '') return undefined;
  const expires = lock.spec?.expires;
  return {
    name: lock.metadata?.name ?? '',
    access_request: id,
    message: lock.spec?.message ?? '',
    expires: toIsoOrNull(expires),
    created: toIsoOrNull(lock.spec?.createdAt),
    created_by: lock.spec?.createdBy ?? '',
    // api/types/lock.go, LockV2.IsInForce.
    in_force: expires === undefined || toIsoOrNull(expires) === null || now.getTime() < expires.getTime(),
  };
}

/**
 * Upserts the lock of request `id` (named {@link requestLockName}, so locking again updates
 * it) and returns it as stored. Needs `create` and `update` on `lock`.
 */
export async function lockRequest(
  conn: Connection,
  id: string,
  opts: LockRequestOptions = {},
): Promise<RequestLock> {
  const now = (opts.now ?? (() => new Date()))();
  const name = requestLockName(id);
  const call: CallOptions = { signal: opts.signal, timeoutMs: opts.timeoutMs };
  await conn.auth.upsertLock(
    {
      kind: 'lock',
      version: 'v2',
      metadata: { name, namespace: 'default' },
      spec: {
        target: { accessRequest: id },
        message: opts.message ?? '',
        expires: opts.ttlMs === undefined ? undefined : new Date(now.getTime() + opts.ttlMs),
        createdAt: now,
        createdBy: conn.identity.username,
      },
    },
    call,
  );
  const stored = await conn.auth.getLock({ name }, call).catch(() => undefined);
  const view = stored && requestLockFromProto(stored, now);
  return (
    view ?? {
      name,
      access_request: id,
      message: opts.message ?? '',
      expires: opts.ttlMs === undefined ? null : toIsoOrNull(new Date(now.getTime() + opts.ttlMs)),
      created: toIsoOrNull(now),
      created_by: conn.identity.username,
      in_force: true,
    }
  );
}

/**
 * Fails with the server's PermissionDenied when the caller may not upsert locks, before
 * anything is changed: Teleport checks the `lock` rules (create, update) before it validates
 * the lock, so a lock without a target is refused for want of permission, or as invalid.
 */
export async function assertMayLock(conn: Connection, opts: CallOptions = {}): Promise<void> {
  try {
    await conn.auth.upsertLock(
      { kind: 'lock', version: 'v2', metadata: { name: `access-probe-${randomUUID()}` }, spec: {} },
      opts,
    );
  } catch (err) {
    if (isRpcError(err) && err.kind === 'usage') return;
    throw err;
  }
}

/** Every lock that targets an access request, by name. Needs `list` and `read` on `lock`. */
export async function listRequestLocks(
  conn: Connection,
  opts: CallOptions & { inForceOnly?: boolean; now?: Date } = {},
): Promise<RequestLock[]> {
  const now = opts.now ?? new Date();
  const res = await conn.auth.getLocks(
    { inForceOnly: opts.inForceOnly ?? false },
    { signal: opts.signal, timeoutMs: opts.timeoutMs },
  );
  return res.locks.flatMap((l) => requestLockFromProto(l, now) ?? []);
}

/**
 * The IDs of the requests that a lock in force targets, or undefined when the caller may
 * not list locks (most requesters may not: `list` and `read` on `lock`).
 */
export async function lockedRequestIds(
  conn: Connection,
  opts: CallOptions & { now?: Date } = {},
): Promise<Set<string> | undefined> {
  try {
    const locks = await listRequestLocks(conn, { ...opts, inForceOnly: true });
    return new Set(locks.filter((l) => l.in_force).map((l) => l.access_request));
  } catch (err) {
    if (isRpcError(err) && err.kind === 'permission') return undefined;
    throw err;
  }
}

/** Fails with NotFound when there is no lock named `name` (GetLock). Needs `read` on `lock`. */
export async function assertLockExists(
  conn: Connection,
  name: string,
  opts: CallOptions = {},
): Promise<void> {
  await conn.auth.getLock({ name }, opts);
}

/** Deletes a lock by name; NotFound when there is none. Needs `delete` on `lock`. */
export async function deleteLock(conn: Connection, name: string, opts: CallOptions = {}): Promise<void> {
  await conn.auth.deleteLock({ name }, opts);
}
