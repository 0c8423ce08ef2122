/**
 * Durable storage of Teleport locks (`DIR/locks.json`: the protobuf encoding of each LockV2,
 * base64), rewritten whole on every change with temp+fsync+rename+fsync of the directory
 * before the change is acknowledged.
 */

import { type LockTarget, LockV2 } from '../../gen/teleport/legacy/types/types.js';
import { isInForce, isLive, targetMatches } from '../locks.js';
import { ServerError } from '../types.js';
import { readOptional, replaceFile, STORE_FAILED } from './durable-file.js';

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
