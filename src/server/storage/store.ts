/**
 * Durable storage of access requests: an append-only log of protobuf records, replayed
 * into an in-memory index on open.
 *
 * Records are framed as log-frame.ts describes; payload = op byte + body (PUT: the
 * AccessRequestV3 in protobuf, DELETE: the request ID in UTF-8). Every acknowledged change
 * is written in full and fdatasync'ed before its promise resolves; a write that fails or
 * falls short is cut off again, so the log never holds a partial record before a good
 * one. Concurrent appends share one write+fsync (group commit). Mutations of one request are serialized by a per-ID lock,
 * so a read-modify-write (a review, a state change) never interleaves with another.
 */

import { readFile } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import { AccessRequestV3, RequestState } from '../../gen/teleport/legacy/types/types.js';
import { decodePageKey, encodePageKey } from '../grpc/paging.js';
import { expiryOf } from '../requests/expiry.js';
import { badParameter, ServerError } from '../types.js';
import { type AppendFile, openAppendFile, STORE_FAILED } from './durable-file.js';
import { MAGIC, OP_DELETE, OP_PUT } from './log-frame.js';
import { idOf, type Key, millis, SortedIndex } from './store-index.js';
import { compact, copyAside, type Damage, encodeRecord, replay } from './store-log.js';

/** The orders ListAccessRequests offers (proto.AccessRequestSort minus DEFAULT). */
export type SortField = 'created' | 'state' | 'user';

/** A change computed under the request's lock: store a new value, delete, or leave it. */
export type Change = { op: 'put'; value: AccessRequestV3 } | { op: 'delete' } | undefined;

/** What a committed change did; `before`/`after` are undefined for a create/delete. */
export interface Commit {
  op: 'put' | 'delete';
  id: string;
  before: AccessRequestV3 | undefined;
  after: AccessRequestV3 | undefined;
}

export interface PageQuery {
  sort: SortField;
  descending: boolean;
  /** Opaque key from a previous page's `nextKey`; empty = from the start. */
  startKey: string;
  limit: number;
  /** Which requests belong in the listing; called at most once per request per page. */
  match: (req: AccessRequestV3) => boolean;
}

export interface Page {
  items: AccessRequestV3[];
  /** Where the next page starts; empty when nothing more matches. */
  nextKey: string;
}

export interface StoreOptions {
  /** Log lines (compaction, listener failures). */
  log?: (line: string) => void;
  /**
   * Called once on open when bytes of the log could not be replayed, after they were
   * copied aside; the server prints it on stderr whatever the log level.
   */
  onDamage?: (damage: Damage) => void;
  /** Opens the log for appending (default: the real file). */
  openAppend?: (path: string) => Promise<AppendFile>;
  /** Compact on open when the log is at least this large and over twice the live data. */
  compactMinBytes?: number;
}

/** A deep copy, so callers may change it freely without touching the stored value. */
export function cloneRequest(req: AccessRequestV3): AccessRequestV3 {
  return AccessRequestV3.decode(AccessRequestV3.encode(req).finish());
}

interface Pending {
  buf: Buffer;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The durable request store; open it with {@link RequestStore.open}. */
export class RequestStore {
  private readonly byId = new Map<string, AccessRequestV3>();
  private readonly indexes: Record<SortField | 'expires', SortedIndex> = {
    created: new SortedIndex((r) => [millis(r.spec?.created), idOf(r)]),
    // lib/services/access_request_cache.go sorts by the state's name, then by ID.
    state: new SortedIndex((r) => [RequestState[r.spec?.state ?? RequestState.NONE] ?? '', idOf(r)]),
    user: new SortedIndex((r) => [r.spec?.user ?? '', millis(r.spec?.created), idOf(r)]),
    expires: new SortedIndex((r) => [expiryOf(r), idOf(r)]),
  };
  private readonly locks = new Map<string, Promise<void>>();
  private readonly listeners: ((c: Commit) => void)[] = [];
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private revision = 0;
  /** Bytes known durable; on a failed write the file is cut back to this. */
  private size: number;
  private closed = false;
  private broken: Error | undefined;

  private constructor(
    readonly path: string,
    private readonly file: AppendFile,
    size: number,
    private readonly log: (line: string) => void,
  ) {
    this.size = size;
  }

  /**
   * Opens (or creates) the log at `path` and replays it. Bytes that are not a valid record
   * (a torn last write, corruption anywhere) are copied aside to `<path>.damaged-<ms>`,
   * every intact record around them is kept, and the log is rewritten without them; a file
   * that is not a request log is refused.
   */
  static async open(path: string, opts: StoreOptions = {}): Promise<RequestStore> {
    const log = opts.log ?? (() => {});
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      data = Buffer.alloc(0);
    }
    let live = new Map<string, { req: AccessRequestV3; bytes: number }>();
    let revision = 0;
    let end = MAGIC.length;
    let rewrite = false;
    if (data.length < MAGIC.length) {
      if (!MAGIC.subarray(0, data.length).equals(data))
        throw new Error(`${path} is not an access request log`);
      rewrite = true;
    } else if (!data.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new Error(`${path} is not an access request log`);
    } else {
      const replayed = replay(data);
      live = replayed.live;
      revision = replayed.revision;
      end = data.length;
      if (replayed.damaged.length > 0) {
        const damage = await copyAside(path, data, replayed.damaged, replayed.recovered);
        log(
          `request log: ${damage.bytes} unreplayable bytes in ${damage.ranges.length} range(s) copied to ${damage.copiedTo}`,
        );
        opts.onDamage?.(damage);
        rewrite = true;
      }
    }

    let liveBytes = MAGIC.length;
    for (const v of live.values()) liveBytes += v.bytes;
    const compactMin = opts.compactMinBytes ?? 1024 * 1024;
    if (rewrite || (end >= compactMin && end > 2 * liveBytes)) {
      // Only live records are written back: damaged bytes are in the copy, not in the log.
      await compact(path, live);
      if (!rewrite) log(`request log: compacted ${end} bytes to ${liveBytes}`);
      end = liveBytes;
    }

    const file = await (opts.openAppend ?? openAppendFile)(path);
    const store = new RequestStore(path, file, end, log);
    store.revision = revision;
    for (const { req } of live.values()) store.index(req);
    return store;
  }

  /** Number of stored requests. */
  get count(): number {
    return this.byId.size;
  }

  /** The stored request, or undefined. Treat the result as read-only. */
  get(id: string): AccessRequestV3 | undefined {
    return this.byId.get(id);
  }

  /** Every stored request in creation order. Treat the results as read-only. */
  *all(descending = false): IterableIterator<AccessRequestV3> {
    const entries = this.indexes.created.entries;
    if (descending) {
      for (let i = entries.length - 1; i >= 0; i--) yield this.byId.get(entries[i].id)!;
    } else {
      for (const e of entries) yield this.byId.get(e.id)!;
    }
  }

  /** Requests whose metadata.expires is at or before `now`, earliest first. */
  expiredAt(now: Date): AccessRequestV3[] {
    const out: AccessRequestV3[] = [];
    const t = now.getTime();
    for (const e of this.indexes.expires.entries) {
      if ((e.key[0] as number) > t) break;
      out.push(this.byId.get(e.id)!);
    }
    return out;
  }

  /**
   * One page of requests in the given order. Only requests that `match` are returned;
   * the scan stops at the first match after a full page, whose position is `nextKey`.
   */
  page(q: PageQuery): Page {
    const index = this.indexes[q.sort];
    const entries = index.entries;
    const limit = q.limit > 0 ? q.limit : Number.POSITIVE_INFINITY;
    let i: number;
    if (q.startKey) {
      const key = decodeStartKey(q.startKey, q.sort);
      i = q.descending ? index.upperBound(key) - 1 : index.lowerBound(key);
    } else {
      i = q.descending ? entries.length - 1 : 0;
    }
    const step = q.descending ? -1 : 1;
    const items: AccessRequestV3[] = [];
    for (; i >= 0 && i < entries.length; i += step) {
      const req = this.byId.get(entries[i].id)!;
      if (!q.match(req)) continue;
      if (items.length >= limit) return { items, nextKey: encodeStartKey(q.sort, entries[i].key) };
      items.push(req);
    }
    return { items, nextKey: '' };
  }

  /** Called after each durable change, in commit order per request. */
  onCommit(listener: (c: Commit) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Runs `fn` on a private copy of the current value under the request's lock, makes its
   * change durable, then applies it in memory and notifies listeners. An error thrown by
   * `fn` leaves everything unchanged and is rethrown.
   */
  async mutate(
    id: string,
    fn: (current: AccessRequestV3 | undefined) => Change | Promise<Change>,
  ): Promise<Commit | undefined> {
    return this.withLock(id, async () => {
      this.checkOpen();
      const before = this.byId.get(id);
      const change = await fn(before ? cloneRequest(before) : undefined);
      if (change === undefined) return undefined;
      if (change.op === 'delete') {
        if (!before) return undefined;
        await this.append(encodeRecord(OP_DELETE, Buffer.from(id, 'utf8')));
        this.unindex(before);
        const commit: Commit = { op: 'delete', id, before, after: undefined };
        this.notify(commit);
        return commit;
      }
      const value = change.value;
      if (idOf(value) !== id)
        throw new ServerError(status.INTERNAL, `store: request ID changed from "${id}" to "${idOf(value)}"`);
      value.metadata = { ...value.metadata!, revision: String(++this.revision) };
      await this.append(encodeRecord(OP_PUT, AccessRequestV3.encode(value).finish()));
      if (before) this.unindex(before);
      this.index(value);
      const commit: Commit = { op: 'put', id, before, after: value };
      this.notify(commit);
      return commit;
    });
  }

  /** Stores a new request; AlreadyExists (6) when the ID is taken. */
  async create(req: AccessRequestV3): Promise<AccessRequestV3> {
    const id = idOf(req);
    const commit = await this.mutate(id, (current) => {
      if (current) throw new ServerError(status.ALREADY_EXISTS, `access request "${id}" already exists`);
      return { op: 'put', value: req };
    });
    return commit!.after!;
  }

  /** Waits for queued writes, then closes the file. Later changes fail with Unavailable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.file.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new ServerError(status.UNAVAILABLE, 'server is shutting down');
    if (this.broken) throw storeFailed(this.broken);
  }

  private index(req: AccessRequestV3): void {
    this.byId.set(idOf(req), req);
    for (const index of Object.values(this.indexes)) index.insert(req);
  }

  private unindex(req: AccessRequestV3): void {
    this.byId.delete(idOf(req));
    for (const index of Object.values(this.indexes)) index.remove(req);
  }

  /** The change is already durable: a failing listener is logged, never reported to the writer. */
  private notify(commit: Commit): void {
    for (const listener of this.listeners) {
      try {
        listener(commit);
      } catch (err) {
        this.log(`request store: commit listener failed: ${(err as Error).message}`);
      }
    }
  }

  private async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = prev.then(() => mine);
    this.locks.set(id, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }

  private append(buf: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ buf, resolve, reject });
      if (!this.flushing) this.flushing = this.flush();
    });
  }

  /** Writes all of `buf`; a write that makes no progress is a failure, never a success. */
  private async writeAll(buf: Buffer): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      const n = await this.file.write(buf, done, buf.length - done);
      if (!(n > 0)) {
        throw Object.assign(new Error(`short write (${done} of ${buf.length} bytes)`), { code: 'ENOSPC' });
      }
      done += n;
    }
  }

  /** Drains the queue: everything queued while a write+fsync runs goes into the next one. */
  private async flush(): Promise<void> {
    for (;;) {
      // One turn of the event loop lets appends from this tick, and from callers whose
      // batch just completed, join the next write instead of going out one by one.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.queue.length === 0) break;
      const batch = this.queue;
      this.queue = [];
      if (this.broken) {
        for (const p of batch) p.reject(storeFailed(this.broken));
        continue;
      }
      const buf = batch.length === 1 ? batch[0].buf : Buffer.concat(batch.map((p) => p.buf));
      try {
        await this.writeAll(buf);
        await this.file.datasync();
        this.size += buf.length;
        for (const p of batch) p.resolve();
      } catch (err) {
        try {
          // Back to the last acknowledged byte, durably, so the next append follows it.
          await this.file.truncate(this.size);
          await this.file.datasync();
        } catch (truncErr) {
          // A partial record left in the file: later appends would go after it, unreplayed
          // until resynchronised. Refuse further writes rather than acknowledge them.
          this.broken = truncErr as Error;
        }
        const failure = storeFailed(err as Error);
        for (const p of batch) p.reject(failure);
      }
    }
    this.flushing = undefined;
  }
}

/** The store's answer to a write that did not reach the disk: Unknown, saying why. */
function storeFailed(err: Error): ServerError {
  const code = (err as NodeJS.ErrnoException).code;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  return new ServerError(
    STORE_FAILED,
    `the server could not store the change${full ? ' (disk full?)' : ''}: ${err.message}`,
  );
}

function encodeStartKey(sort: SortField, key: Key): string {
  return encodePageKey([sort, ...key]);
}

function decodeStartKey(startKey: string, sort: SortField): Key {
  const parsed = decodePageKey(startKey);
  if (!parsed || parsed[0] !== sort || parsed.length < 2) {
    throw badParameter(`invalid start key "${startKey}" for sort by ${sort}`);
  }
  return parsed.slice(1);
}
