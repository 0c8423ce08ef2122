/**
 * Durable storage of access requests: an append-only log (append-log.ts) of protobuf records
 * (PUT: the AccessRequestV3, DELETE: the request ID in UTF-8), replayed into an in-memory
 * index on open. Mutations of one request are serialized by a per-ID lock, so a
 * read-modify-write (a review, a state change) never interleaves with another.
 */

import { status } from '@grpc/grpc-js';
import { AccessRequestV3, RequestState } from '../../gen/teleport/legacy/types/types.js';
import { decodePageKey, encodePageKey } from '../grpc/paging.js';
import { expiryOf } from '../requests/expiry.js';
import { badParameter, ServerError } from '../types.js';
import { AppendLog, type AppendLogOptions } from './append-log.js';
import { idOf, type Key, millis, SortedIndex } from './store-index.js';
import type { Codec } from './store-log.js';

/** Access requests as log records. */
export const REQUEST_CODEC: Codec<AccessRequestV3> = {
  noun: 'access request',
  logName: 'access request log',
  encode: (req) => AccessRequestV3.encode(req).finish(),
  decode: (body) => AccessRequestV3.decode(body),
  keyOf: idOf,
  revisionOf: (req) => Number(req.metadata?.revision),
};

/** The orders ListAccessRequests offers (proto.AccessRequestSort minus DEFAULT). */
export type SortField = 'id' | 'created' | 'state' | 'user';

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

export interface StoreOptions extends AppendLogOptions {
  /** Log lines (compaction, listener failures). */
  log?: (line: string) => void;
}

/** A deep copy, so callers may change it freely without touching the stored value. */
export function cloneRequest(req: AccessRequestV3): AccessRequestV3 {
  return AccessRequestV3.decode(AccessRequestV3.encode(req).finish());
}

/** The durable request store; open it with {@link RequestStore.open}. */
export class RequestStore {
  private readonly byId = new Map<string, AccessRequestV3>();
  private readonly indexes: Record<SortField | 'expires', SortedIndex> = {
    id: new SortedIndex((r) => [idOf(r)]),
    created: new SortedIndex((r) => [millis(r.spec?.created), idOf(r)]),
    // lib/services/access_request_cache.go sorts by the state's name, then by ID.
    state: new SortedIndex((r) => [RequestState[r.spec?.state ?? RequestState.NONE] ?? '', idOf(r)]),
    user: new SortedIndex((r) => [r.spec?.user ?? '', millis(r.spec?.created), idOf(r)]),
    expires: new SortedIndex((r) => [expiryOf(r), idOf(r)]),
  };
  private readonly locks = new Map<string, Promise<void>>();
  private readonly listeners: ((c: Commit) => void)[] = [];
  private revision = 0;

  private constructor(
    private readonly file: AppendLog<AccessRequestV3>,
    private readonly log: (line: string) => void,
  ) {}

  get path(): string {
    return this.file.path;
  }

  /**
   * Opens (or creates) the log at `path` and replays it (append-log.ts: damage copied aside,
   * a log that is not ours, or is missing or shorter than recorded, refused).
   */
  static async open(path: string, opts: StoreOptions = {}): Promise<RequestStore> {
    const { log: file, live, revision } = await AppendLog.open(path, REQUEST_CODEC, opts);
    const store = new RequestStore(file, opts.log ?? (() => {}));
    store.revision = revision;
    for (const req of live.values()) store.index(req);
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
      this.file.checkOpen();
      const before = this.byId.get(id);
      const change = await fn(before ? cloneRequest(before) : undefined);
      if (change === undefined) return undefined;
      if (change.op === 'delete') {
        if (!before) return undefined;
        await this.file.delete(id);
        this.unindex(before);
        const commit: Commit = { op: 'delete', id, before, after: undefined };
        this.notify(commit);
        return commit;
      }
      const value = change.value;
      if (idOf(value) !== id)
        throw new ServerError(status.INTERNAL, `store: request ID changed from "${id}" to "${idOf(value)}"`);
      value.metadata = { ...value.metadata!, revision: String(++this.revision) };
      await this.file.put(value);
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
  close(): Promise<void> {
    return this.file.close();
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
