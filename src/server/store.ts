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

import { constants as fsConstants } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { AccessRequestV3, RequestState } from '../gen/teleport/legacy/types/types.js';
import {
  encodeFrame,
  type Frame,
  MAGIC,
  MAX_RECORD_BYTES,
  OP_DELETE,
  OP_PUT,
  type Range,
  scanFrames,
} from './log-frame.js';
import { ServerError } from './types.js';

/**
 * gRPC code of a change the server could not make durable. Teleport's backends return the
 * OS error unclassified, and `trail.ToGRPC` (gravitational/trace trail/trail.go) maps an
 * error that is none of its trace kinds to codes.Unknown. It must not be Unavailable:
 * the server was reached, and clients would retry a write that cannot succeed.
 */
export const STORE_FAILED = status.UNKNOWN;

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

type Key = (string | number)[];

function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/**
 * IDs kept sorted by a key; inserts and removals are a binary search plus one splice, so a
 * listing walks the order without sorting or copying the requests.
 */
class SortedIndex {
  readonly entries: { key: Key; id: string }[] = [];

  constructor(readonly keyOf: (req: AccessRequestV3) => Key) {}

  /** First position whose key is ≥ `key`. */
  lowerBound(key: Key): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.entries[mid].key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position whose key is > `key`. */
  upperBound(key: Key): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.entries[mid].key, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(req: AccessRequestV3): void {
    const key = this.keyOf(req);
    this.entries.splice(this.lowerBound(key), 0, { key, id: req.metadata?.name ?? '' });
  }

  remove(req: AccessRequestV3): void {
    const key = this.keyOf(req);
    const i = this.lowerBound(key);
    if (i < this.entries.length && compareKeys(this.entries[i].key, key) === 0) this.entries.splice(i, 1);
  }
}

function idOf(req: AccessRequestV3): string {
  return req.metadata?.name ?? '';
}

function millis(d: Date | undefined): number {
  return d ? d.getTime() : 0;
}

/** The time a request is removed by the sweeper (metadata.expires), or Infinity. */
export function expiryOf(req: AccessRequestV3): number {
  const t = req.metadata?.expires?.getTime();
  // Go writes an unset time as year 1; that means "never".
  return t === undefined || t <= -62135596800000 ? Number.POSITIVE_INFINITY : t;
}

/** A deep copy, so callers may change it freely without touching the stored value. */
export function cloneRequest(req: AccessRequestV3): AccessRequestV3 {
  return AccessRequestV3.decode(AccessRequestV3.encode(req).finish());
}

function encodeRecord(op: number, body: Uint8Array): Buffer {
  // Replay treats a longer record as corruption, so one must never be acknowledged.
  if (1 + body.length > MAX_RECORD_BYTES) {
    throw new ServerError(
      status.RESOURCE_EXHAUSTED,
      `access request is too large to store (${body.length} bytes, max ${MAX_RECORD_BYTES - 1})`,
    );
  }
  return encodeFrame(op, body);
}

/**
 * The log file as the store appends to it: a seam, so tests can make writes fall short
 * or fail (ENOSPC, EIO) without filling a disk.
 */
export interface AppendFile {
  /** Appends `buf[offset, offset+length)`; resolves with how many bytes reached the file. */
  write(buf: Buffer, offset: number, length: number): Promise<number>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens `path` for appending (created 0600 when missing). */
export async function openAppendFile(path: string): Promise<AppendFile> {
  const fh = await open(path, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT, 0o600);
  return {
    write: async (buf, offset, length) => (await fh.write(buf, offset, length)).bytesWritten,
    datasync: () => fh.datasync(),
    truncate: (length) => fh.truncate(length),
    close: () => fh.close(),
  };
}

/** What replay found that it could not use: where it was copied, and how much. */
export interface Damage {
  /** The file the unreplayable bytes were copied to. */
  copiedTo: string;
  ranges: Range[];
  bytes: number;
  /** Records replayed. */
  recovered: number;
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

interface Replayed {
  live: Map<string, { req: AccessRequestV3; bytes: number }>;
  revision: number;
  /** Ranges that are not valid records, or valid frames whose body does not decode. */
  damaged: Range[];
  recovered: number;
}

/** Replays every intact record of `data` in order; whatever is not one is reported. */
function replay(data: Buffer): Replayed {
  const { frames, damaged } = scanFrames(data, MAGIC.length);
  const live = new Map<string, { req: AccessRequestV3; bytes: number }>();
  let revision = 0;
  let recovered = 0;
  const undecodable: Range[] = [];
  for (const frame of frames) {
    const req = frame.op === OP_PUT ? decodePut(frame) : undefined;
    if (frame.op === OP_PUT && !req) {
      undecodable.push({ start: frame.start, end: frame.end });
      continue;
    }
    recovered++;
    if (req) {
      live.set(idOf(req), { req, bytes: frame.end - frame.start });
      const rev = Number(req.metadata?.revision);
      if (Number.isFinite(rev) && rev > revision) revision = rev;
    } else if (frame.op === OP_DELETE) {
      live.delete(frame.body.toString('utf8'));
    }
  }
  const all =
    undecodable.length > 0 ? [...damaged, ...undecodable].sort((a, b) => a.start - b.start) : damaged;
  return { live, revision, damaged: all, recovered };
}

function decodePut(frame: Frame): AccessRequestV3 | undefined {
  try {
    return AccessRequestV3.decode(frame.body);
  } catch {
    return undefined;
  }
}

/**
 * Copies the damaged ranges (concatenated, in file order) to a new file next to the log,
 * durably, before the log is rewritten without them.
 */
async function copyAside(path: string, data: Buffer, ranges: Range[], recovered: number): Promise<Damage> {
  const parts = ranges.map((r) => data.subarray(r.start, r.end));
  const bytes = parts.reduce((n, p) => n + p.length, 0);
  for (let i = 0; ; i++) {
    const copiedTo = `${path}.damaged-${Date.now()}${i === 0 ? '' : `-${i}`}`;
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(copiedTo, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    try {
      await fh.writeFile(Buffer.concat(parts));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await syncDir(dirname(path));
    return { copiedTo, ranges, bytes, recovered };
  }
}

/** Rewrites the log with only live records: temp file, fsync, rename, fsync the directory. */
async function compact(path: string, live: Map<string, { req: AccessRequestV3 }>): Promise<void> {
  const parts: Buffer[] = [MAGIC];
  for (const { req } of live.values()) parts.push(encodeRecord(OP_PUT, AccessRequestV3.encode(req).finish()));
  await replaceFile(path, Buffer.concat(parts));
}

/** Replaces `path` with `data` durably: temp file, fsync, rename, fsync the directory. */
export async function replaceFile(path: string, data: Buffer): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.write(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

/** Makes a rename or file creation in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function encodeStartKey(sort: SortField, key: Key): string {
  return Buffer.from(JSON.stringify([sort, ...key]), 'utf8').toString('base64url');
}

function decodeStartKey(startKey: string, sort: SortField): Key {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(startKey, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed[0] !== sort || parsed.length < 2) {
    throw new ServerError(status.INVALID_ARGUMENT, `invalid start key "${startKey}" for sort by ${sort}`);
  }
  return parsed.slice(1) as Key;
}
