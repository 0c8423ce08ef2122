/**
 * Durable storage of Teleport locks: an append-only log (append-log.ts) of LockV2 records
 * (PUT: the lock in protobuf, DELETE: its name), with the request log's guarantees. Earlier
 * versions rewrote `locks.json` whole on every change; such a file is converted on first open.
 */

import { type LockTarget, LockV2 } from '../../gen/teleport/legacy/types/types.js';
import { isInForce, isLive, targetMatches } from '../locks.js';
import { AppendLog, type AppendLogOptions } from './append-log.js';
import { type Codec, convertLegacy } from './store-log.js';

/** Locks as log records. */
export const LOCK_CODEC: Codec<LockV2> = {
  noun: 'lock',
  logName: 'lock log',
  encode: (lock) => LockV2.encode(lock).finish(),
  decode: (body) => LockV2.decode(body),
  keyOf: (lock) => lock.metadata?.name ?? '',
};

/** `locks.json` of earlier versions: `{"locks": [<base64 LockV2>, ...]}`. */
function decodeLegacy(data: Buffer): LockV2[] {
  const locks = (JSON.parse(data.toString('utf8')) as { locks?: unknown } | undefined)?.locks;
  if (!Array.isArray(locks) || !locks.every((l) => typeof l === 'string')) throw new Error('not a lock file');
  return locks.map((b64) => LockV2.decode(Buffer.from(b64, 'base64')));
}

export interface LockStoreOptions extends AppendLogOptions {
  /** `locks.json` of an earlier version, converted to the log when there is none. */
  legacyPath?: string;
}

/** The durable set of locks; open it with {@link LockStore.open}. */
export class LockStore {
  private readonly byName = new Map<string, LockV2>();
  /** Changes are written one at a time. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly file: AppendLog<LockV2>) {}

  get path(): string {
    return this.file.path;
  }

  /** Opens (or creates) the lock log at `path` (append-log.ts: what is refused, what is copied aside). */
  static async open(path: string, opts: LockStoreOptions = {}): Promise<LockStore> {
    const id = opts.record?.id;
    if (opts.legacyPath && id) {
      await convertLegacy(path, opts.legacyPath, {
        id,
        recorded: opts.record?.minBytes !== undefined,
        codec: LOCK_CODEC,
        decode: decodeLegacy,
      });
    }
    const { log, live } = await AppendLog.open(path, LOCK_CODEC, opts);
    const store = new LockStore(log);
    for (const [k, v] of live) store.byName.set(k, v);
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
    return this.change(async () => {
      await this.file.put(lock);
      this.byName.set(lock.metadata!.name, lock);
    });
  }

  /** Removes a lock; false when there was none of that name. */
  async delete(name: string, now: Date): Promise<boolean> {
    let found = false;
    await this.change(async () => {
      found = this.get(name, now) !== undefined;
      if (!this.byName.has(name)) return;
      await this.file.delete(name);
      this.byName.delete(name);
    });
    return found;
  }

  /** Waits for queued writes, then closes the log. */
  async close(): Promise<void> {
    await this.tail;
    await this.file.close();
  }

  private change(edit: () => Promise<void>): Promise<void> {
    const run = this.tail.then(() => {
      this.file.checkOpen();
      return edit();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}
