/**
 * Teleport locks in the embedded server: durable storage, and the rules that decide whether
 * a lock is in force against a caller.
 *
 * Locks are few and change rarely, so they live in one small file (`DIR/locks.json`: the
 * protobuf encoding of each LockV2, base64), rewritten whole on every change with
 * temp+fsync+rename+fsync of the directory before the change is acknowledged.
 */

import { type LockTarget, LockV2 } from '../gen/teleport/legacy/types/types.js';
import { lockInForceMessage } from '../model/server-messages.js';
import { readOptional, replaceFile, STORE_FAILED } from './durable-file.js';
import { accessDenied, type Caller, ServerError } from './types.js';

/** The fields of a LockTarget in Teleport's proto order, with their proto (Go) names. */
const TARGET_FIELDS: readonly [keyof LockTarget, string][] = [
  ['user', 'User'],
  ['role', 'Role'],
  ['login', 'Login'],
  ['node', 'Node'],
  ['mfaDevice', 'MFADevice'],
  ['windowsDesktop', 'WindowsDesktop'],
  ['accessRequest', 'AccessRequest'],
  ['device', 'Device'],
  ['serverId', 'ServerID'],
];

/** api/types/lock.go, LockTarget.IsEmpty. */
export function isEmptyTarget(t: LockTarget | undefined): boolean {
  return !t || TARGET_FIELDS.every(([k]) => t[k] === '');
}

/**
 * api/types/lock.go, LockTarget.String: gogoproto's CompactTextString, e.g.
 * `AccessRequest:"0193…"`. Values are quoted as Go's text format does for the printable
 * ASCII every Teleport name uses; JSON's escaping covers the rest closely enough for a message.
 */
export function targetString(t: LockTarget): string {
  return TARGET_FIELDS.filter(([k]) => t[k] !== '')
    .map(([k, name]) => `${name}:${JSON.stringify(t[k])}`)
    .join(' ');
}

/**
 * api/types/lock.go, LockTarget.Match: every field set in `t` equals the lock's. Node and
 * ServerID match either way round, as Teleport keeps node locks working for whole servers.
 */
export function targetMatches(t: LockTarget, lock: LockV2): boolean {
  if (isEmptyTarget(t)) return false;
  const lt = lock.spec?.target;
  if (!lt) return false;
  const same = (k: keyof LockTarget) => t[k] === '' || lt[k] === t[k];
  const plain: (keyof LockTarget)[] = [
    'user',
    'role',
    'login',
    'mfaDevice',
    'windowsDesktop',
    'accessRequest',
    'device',
  ];
  if (!plain.every(same)) return false;
  if (t.node === '' && t.serverId === '') return true;
  return (lt.node !== '' && lt.node === t.node) || (lt.serverId !== '' && lt.serverId === t.serverId);
}

function target(partial: Partial<LockTarget>): LockTarget {
  return {
    user: '',
    role: '',
    login: '',
    node: '',
    mfaDevice: '',
    windowsDesktop: '',
    accessRequest: '',
    device: '',
    serverId: '',
    ...partial,
  };
}

/** A target naming one access request. */
export function accessRequestTarget(id: string): LockTarget {
  return target({ accessRequest: id });
}

/**
 * lib/services/lock.go, LockTargetsFromTLSIdentity: the user, each role (Groups) and each
 * active request of a certificate (no MFA device or trusted device in ours).
 */
export function lockTargetsOf(identity: {
  user: string;
  roles: string[];
  activeRequests: string[];
}): LockTarget[] {
  return [
    ...identity.roles.map((role) => target({ role })),
    target({ user: identity.user }),
    ...identity.activeRequests.map(accessRequestTarget),
  ];
}

/** api/types/lock.go, LockV2.IsInForce: no expiry, or `now` before it. */
export function isInForce(lock: LockV2, now: Date): boolean {
  const expires = lock.spec?.expires;
  return !expires || now.getTime() < expires.getTime();
}

/** Whether the backend would still hold the lock (metadata.expires is the item's TTL). */
function isLive(lock: LockV2, now: Date): boolean {
  const t = lock.metadata?.expires?.getTime();
  return t === undefined || t <= -62135596800000 || now.getTime() < t;
}

/** lib/services/lock.go, LockInForceAccessDenied: AccessDenied naming the lock's target and message. */
export function lockInForceError(lock: LockV2): ServerError {
  return accessDenied(lockInForceMessage(targetString(lock.spec!.target!), lock.spec?.message ?? ''));
}

/** The durable set of locks; open it with {@link LockStore.open}. */
export class LockStore {
  private byName = new Map<string, LockV2>();
  /** Changes are written one at a time, each as a whole new file. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(readonly path: string) {}

  /** Loads `path` (missing = no locks). A file that is not ours is refused, never overwritten. */
  static async open(path: string): Promise<LockStore> {
    const store = new LockStore(path);
    const text = await readOptional(path);
    if (text === undefined) return store;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const locks = (parsed as { locks?: unknown } | undefined)?.locks;
    if (!Array.isArray(locks) || !locks.every((l) => typeof l === 'string')) {
      throw new Error(`${path} is not a lock file of access server`);
    }
    for (const b64 of locks as string[]) {
      const lock = LockV2.decode(Buffer.from(b64, 'base64'));
      store.byName.set(lock.metadata?.name ?? '', lock);
    }
    return store;
  }

  /** Live locks, by name. Treat the results as read-only. */
  list(now: Date): LockV2[] {
    return [...this.byName.values()]
      .filter((l) => isLive(l, now))
      .sort((a, b) => (a.metadata!.name < b.metadata!.name ? -1 : 1));
  }

  get(name: string, now: Date): LockV2 | undefined {
    const lock = this.byName.get(name);
    return lock && isLive(lock, now) ? lock : undefined;
  }

  /**
   * lib/services/local/access.go, GetLocks: live locks (only those in force with
   * `inForceOnly`) that match at least one target, or all when no target is given.
   */
  find(now: Date, inForceOnly: boolean, targets: LockTarget[]): LockV2[] {
    return this.list(now).filter(
      (l) =>
        (!inForceOnly || isInForce(l, now)) &&
        (targets.length === 0 || targets.some((t) => targetMatches(t, l))),
    );
  }

  /** lib/services/watcher.go, LockWatcher.CheckLockInForce: the first lock in force matching a target. */
  inForce(now: Date, targets: LockTarget[]): LockV2 | undefined {
    return this.find(now, true, targets)[0];
  }

  /** Stores `lock` (replacing one of the same name), durably before it resolves. */
  upsert(lock: LockV2): Promise<void> {
    return this.change((next) => next.set(lock.metadata!.name, lock));
  }

  /** Removes a lock; false when there was none of that name. */
  async delete(name: string, now: Date): Promise<boolean> {
    let found = false;
    await this.change((next) => {
      found = this.get(name, now) !== undefined;
      next.delete(name);
    });
    return found;
  }

  private change(edit: (next: Map<string, LockV2>) => void): Promise<void> {
    const run = this.tail.then(async () => {
      const next = new Map(this.byName);
      edit(next);
      const data = {
        locks: [...next.values()].map((l) => Buffer.from(LockV2.encode(l).finish()).toString('base64')),
      };
      try {
        await replaceFile(this.path, Buffer.from(`${JSON.stringify(data)}\n`, 'utf8'));
      } catch (err) {
        throw new ServerError(STORE_FAILED, `the server could not store the lock: ${(err as Error).message}`);
      }
      this.byName = next;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** Refuses a caller whose certificate a lock in force targets (lib/authz/permissions.go, Authorize). */
export function checkCallerNotLocked(locks: LockStore, caller: Caller, now: Date): void {
  const lock = locks.inForce(now, lockTargetsOf(caller));
  if (lock) throw lockInForceError(lock);
}
