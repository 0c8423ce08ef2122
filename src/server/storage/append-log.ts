/**
 * A store's durable log: opened once (checked against what the data directory records of it,
 * replayed, damage copied aside, compacted when mostly dead), then only appended to.
 *
 * Every acknowledged change is written in full and fdatasync'ed before its promise resolves;
 * a write that fails or falls short is cut off again, so the log never holds a partial record
 * before a good one. Concurrent appends share one write+fsync (group commit).
 *
 * A lost log is never taken for an empty one: the data directory records (cluster.json,
 * `logs`) a length each log had at least, and the log is refused at open when it is missing
 * or shorter. That length is recorded when the log is opened (after any rewrite), and when it
 * is closed; never per append, which would cost a second fsync'ed file write per change. So
 * what is checked is a lower bound: records appended since the last open or clean stop that
 * are cut off again are not detected (the same window as a torn last write). A rewrite that
 * shortens the log records the shorter length before it replaces the file, so a crash between
 * the two leaves a log longer than recorded, never shorter.
 */
import { status } from '@grpc/grpc-js';
import { NotRegularFileError, readError, readRegularFile } from '../../identity/files.js';
import { ServerError } from '../types.js';
import { type AppendFile, openAppendFile, STORE_FAILED } from './durable-file.js';
import { HEADER_V2_BYTES, ID_BYTES, MAGIC, MAGIC_V2, OP_DELETE, OP_PUT } from './log-frame.js';
import {
  type Codec,
  compact,
  compacted,
  copyAside,
  type Damage,
  encodeRecord,
  logHeader,
  replay,
} from './store-log.js';

/** What the data directory records about one log. */
export interface LogRecord {
  /** The data directory's ID, carried by the log's header and by every record. */
  id: Buffer;
  /**
   * The least length the log is known to have; undefined when nothing is recorded (a data
   * directory from before logs were recorded, or a store opened on its own), and the log may
   * then be missing.
   */
  minBytes: number | undefined;
  /** Records a new least length durably. */
  record(bytes: number): Promise<void>;
  /** What to tell an operator to do with a log that is refused. */
  recovery: string;
}

/** A log opened without a data directory: a fixed ID, nothing recorded. */
export const UNRECORDED: LogRecord = {
  id: Buffer.alloc(ID_BYTES),
  minBytes: undefined,
  record: async () => {},
  recovery: 'restore it from a backup',
};

export interface AppendLogOptions {
  record?: LogRecord;
  /** Log lines (compaction, damage). */
  log?: (line: string) => void;
  /** Called once on open when bytes could not be replayed, after they were copied aside. */
  onDamage?: (damage: Damage) => void;
  /** Opens the log for appending (default: the real file). */
  openAppend?: (path: string) => Promise<AppendFile>;
  /** Compact on open when the log is at least this large and over twice the live data. */
  compactMinBytes?: number;
}

export interface Opened<T> {
  log: AppendLog<T>;
  live: Map<string, T>;
  revision: number;
}

interface Pending {
  buf: Buffer;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A refused log: the one line the server prints at start. */
function refused(path: string, what: string, rec: LogRecord): Error {
  return new Error(`${path} ${what}; nothing was changed: ${rec.recovery}`);
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

export class AppendLog<T> {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  /** Bytes known durable; on a failed write the file is cut back to this. */
  private size: number;
  private recorded: number;
  private closed = false;
  private broken: Error | undefined;

  private constructor(
    readonly path: string,
    private readonly codec: Codec<T>,
    private readonly rec: LogRecord,
    private readonly file: AppendFile,
    size: number,
  ) {
    this.size = size;
    this.recorded = size;
  }

  /**
   * Opens (or creates) the log at `path` and replays it. Bytes that are not a valid record
   * of this data directory (a torn last write, corruption anywhere, records of another
   * directory) are copied aside to `<path>.damaged-<ms>`, every intact record around them is
   * kept, and the log is rewritten without them. Refused: a file that is not a log of this
   * kind, a log of another data directory, and one missing or shorter than recorded.
   */
  static async open<T>(path: string, codec: Codec<T>, opts: AppendLogOptions = {}): Promise<Opened<T>> {
    const rec = opts.record ?? UNRECORDED;
    const log = opts.log ?? (() => {});
    let data: Buffer | undefined;
    try {
      data = await readRegularFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        if (err instanceof NotRegularFileError) throw refused(path, err.message, rec);
        throw readError(path, err);
      }
    }
    const min = rec.minBytes;
    if (data === undefined && min !== undefined) {
      throw refused(path, `is missing, but the data directory records a log of at least ${min} bytes`, rec);
    }
    data ??= Buffer.alloc(0);
    if (min !== undefined && data.length < min) {
      throw refused(
        path,
        `is ${data.length} bytes, shorter than the ${min} bytes the data directory records: records were lost`,
        rec,
      );
    }

    let live = new Map<string, { value: T; bytes: number }>();
    let revision = 0;
    let end = HEADER_V2_BYTES;
    let rewrite = false;
    const isPrefix = (magic: Buffer) =>
      data.length < magic.length && magic.subarray(0, data.length).equals(data);
    if (isPrefix(logHeader(rec.id)) || isPrefix(MAGIC)) {
      // Nothing, or a header cut short while the log was first written: an empty log.
      rewrite = true;
    } else {
      let from: number;
      let id: Buffer | undefined;
      if (data.subarray(0, MAGIC_V2.length).equals(MAGIC_V2)) {
        const theirs = data.subarray(MAGIC_V2.length, HEADER_V2_BYTES);
        if (!theirs.equals(rec.id)) {
          throw refused(
            path,
            `belongs to another data directory (ID ${hex(theirs)}, this one's is ${hex(rec.id)})`,
            rec,
          );
        }
        from = HEADER_V2_BYTES;
        id = rec.id;
      } else if (data.subarray(0, MAGIC.length).equals(MAGIC)) {
        if (min !== undefined) {
          throw refused(path, 'is in the first log format, which this data directory never wrote', rec);
        }
        // The first format: replayed, then rewritten in the current one with this directory's ID.
        from = MAGIC.length;
        rewrite = true;
      } else {
        throw new Error(`${path} is not an ${codec.logName}`);
      }
      const replayed = replay(codec, data, from, id);
      live = replayed.live;
      revision = replayed.revision;
      end = data.length;
      if (replayed.damaged.length > 0) {
        const damage = await copyAside(path, data, replayed.damaged, replayed);
        log(
          `${codec.logName}: ${damage.bytes} unreplayable bytes in ${damage.ranges.length} range(s) copied to ${damage.copiedTo}`,
        );
        opts.onDamage?.(damage);
        rewrite = true;
      }
    }

    let liveBytes = HEADER_V2_BYTES;
    for (const v of live.values()) liveBytes += v.bytes;
    const compactMin = opts.compactMinBytes ?? 1024 * 1024;
    if (rewrite || (end >= compactMin && end > 2 * liveBytes)) {
      // Only live records are written back: damaged bytes are in the copy, not in the log.
      const next = compacted(
        codec,
        rec.id,
        [...live.values()].map((v) => v.value),
      );
      // Shorter first in the record, then in the file: a crash between leaves a longer log.
      if (min !== undefined && next.length < min) await rec.record(next.length);
      await compact(path, next);
      if (!rewrite) log(`${codec.logName}: compacted ${end} bytes to ${next.length}`);
      end = next.length;
    }
    if (min === undefined || end !== min) await rec.record(end);

    const file = await (opts.openAppend ?? openAppendFile)(path);
    const values = new Map<string, T>();
    for (const [k, v] of live) values.set(k, v.value);
    return { log: new AppendLog(path, codec, rec, file, end), live: values, revision };
  }

  /** Appends a record storing `value`; resolves once it is durable. */
  put(value: T): Promise<void> {
    return this.write(OP_PUT, this.codec.encode(value));
  }

  /** Appends a record deleting `key`; resolves once it is durable. */
  delete(key: string): Promise<void> {
    return this.write(OP_DELETE, Buffer.from(key, 'utf8'));
  }

  /** Throws the error a change gets now (closed, or broken by a failed write it could not undo). */
  checkOpen(): void {
    if (this.closed) throw new ServerError(status.UNAVAILABLE, 'server is shutting down');
    if (this.broken) throw storeFailed(this.broken);
  }

  /** Waits for queued writes, closes the file and records how long it is. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.file.close();
    if (this.size > this.recorded) await this.rec.record(this.size);
  }

  private write(op: number, body: Uint8Array): Promise<void> {
    const buf = encodeRecord(this.codec.noun, this.rec.id, op, body);
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

/**
 * Every store's answer to a write that did not reach the disk: one code (durable-file.ts,
 * STORE_FAILED), saying why.
 */
export function storeFailed(err: Error): ServerError {
  const code = (err as NodeJS.ErrnoException).code;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  return new ServerError(
    STORE_FAILED,
    `the server could not store the change${full ? ' (disk full?)' : ''}: ${err.message}`,
  );
}
