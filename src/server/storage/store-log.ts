/**
 * The records of a store's log, for any kind of value: encoding one, replaying a log
 * (resynchronising past damage, setting aside records of another data directory), copying
 * what cannot be replayed aside, and compacting to the live records.
 */
import { rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { status } from '@grpc/grpc-js';
import { readRegularFile } from '../../identity/files.js';
import { ServerError } from '../types.js';
import { replaceFile, syncDir, writeSynced } from './durable-file.js';
import {
  encodeFrame,
  type Frame,
  HEADER_V2_BYTES,
  ID_BYTES,
  MAGIC,
  MAGIC_V2,
  MAX_RECORD_BYTES,
  OP_DELETE,
  OP_PUT,
  type Range,
  scanFrames,
} from './log-frame.js';

/** How a store's values become record bodies and back. */
export interface Codec<T> {
  /** What one value is, for messages ("access request"). */
  noun: string;
  /** What the log is, for messages ("access request log"). */
  logName: string;
  encode(value: T): Uint8Array;
  /** Throws when `body` is not a value. */
  decode(body: Buffer): T;
  keyOf(value: T): string;
  /** The value's revision, when it has one; replay returns the largest seen. */
  revisionOf?(value: T): number;
}

/** The header of a log of the data directory `id`. */
export function logHeader(id: Buffer): Buffer {
  return Buffer.concat([MAGIC_V2, id]);
}

/** One record of the data directory `id`: header + op + ID + body. Throws when too large to replay. */
export function encodeRecord(noun: string, id: Buffer, op: number, body: Uint8Array): Buffer {
  // Replay treats a longer record as corruption, so one must never be acknowledged.
  if (1 + ID_BYTES + body.length > MAX_RECORD_BYTES) {
    throw new ServerError(
      status.RESOURCE_EXHAUSTED,
      `${noun} is too large to store (${body.length} bytes, max ${MAX_RECORD_BYTES - 1 - ID_BYTES})`,
    );
  }
  return encodeFrame(op, Buffer.concat([id, body]));
}

/** What replay found that it could not use: where it was copied, and how much. */
export interface Damage {
  /** The file the unreplayable bytes were copied to. */
  copiedTo: string;
  ranges: Range[];
  bytes: number;
  /** Records replayed. */
  recovered: number;
  /** Intact records of another data directory's log among the copied bytes (never replayed). */
  foreign: number;
}

export interface Replayed<T> {
  live: Map<string, { value: T; bytes: number }>;
  revision: number;
  /** Ranges that are not valid records, valid frames whose body does not decode, or foreign records. */
  damaged: Range[];
  recovered: number;
  foreign: number;
}

/**
 * Replays every intact record of `data` from `from` in order; whatever is not one is
 * reported. With `id`, a record must carry it (the current format): one carrying another ID
 * was appended from another data directory's log and is set aside, never replayed as ours.
 * Without `id` (the first format) records carry none.
 */
export function replay<T>(codec: Codec<T>, data: Buffer, from: number, id: Buffer | undefined): Replayed<T> {
  const { frames, damaged } = scanFrames(data, from);
  const live = new Map<string, { value: T; bytes: number }>();
  let revision = 0;
  let recovered = 0;
  let foreign = 0;
  const unusable: Range[] = [];
  for (const frame of frames) {
    let body = frame.body;
    if (id) {
      if (body.length < ID_BYTES || !body.subarray(0, ID_BYTES).equals(id)) {
        if (body.length >= ID_BYTES) foreign++;
        unusable.push({ start: frame.start, end: frame.end });
        continue;
      }
      body = body.subarray(ID_BYTES);
    }
    const value = frame.op === OP_PUT ? decode(codec, body) : undefined;
    if (frame.op === OP_PUT && value === undefined) {
      unusable.push({ start: frame.start, end: frame.end });
      continue;
    }
    recovered++;
    if (value !== undefined) {
      live.set(codec.keyOf(value), { value, bytes: frame.end - frame.start + (id ? 0 : ID_BYTES) });
      const rev = codec.revisionOf?.(value) ?? 0;
      if (Number.isFinite(rev) && rev > revision) revision = rev;
    } else if (frame.op === OP_DELETE) {
      live.delete(body.toString('utf8'));
    }
  }
  const all = unusable.length > 0 ? [...damaged, ...unusable].sort((a, b) => a.start - b.start) : damaged;
  return { live, revision, damaged: all, recovered, foreign };
}

function decode<T>(codec: Codec<T>, frame: Frame['body']): T | undefined {
  try {
    return codec.decode(frame);
  } catch {
    return undefined;
  }
}

/** The bytes before the first record of a log in the given format. */
export function headerBytes(format: 1 | 2): number {
  return format === 2 ? HEADER_V2_BYTES : MAGIC.length;
}

/**
 * Copies the damaged ranges (concatenated, in file order) to a new file next to the log,
 * durably, before the log is rewritten without them.
 */
export async function copyAside(
  path: string,
  data: Buffer,
  ranges: Range[],
  counts: { recovered: number; foreign: number },
): Promise<Damage> {
  const parts = ranges.map((r) => data.subarray(r.start, r.end));
  const bytes = parts.reduce((n, p) => n + p.length, 0);
  for (let i = 0; ; i++) {
    const copiedTo = `${path}.damaged-${Date.now()}${i === 0 ? '' : `-${i}`}`;
    try {
      await writeSynced(copiedTo, Buffer.concat(parts), 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    await syncDir(dirname(path));
    return { copiedTo, ranges, bytes, ...counts };
  }
}

/** The log holding only `live`, in the current format: what {@link compact} writes. */
export function compacted<T>(codec: Codec<T>, id: Buffer, live: Iterable<T>): Buffer {
  const parts: Buffer[] = [logHeader(id)];
  for (const value of live) parts.push(encodeRecord(codec.noun, id, OP_PUT, codec.encode(value)));
  return Buffer.concat(parts);
}

/** Rewrites the log with only live records: temp file, fsync, rename, fsync the directory. */
export async function compact(path: string, data: Buffer): Promise<void> {
  await replaceFile(path, data);
}

/**
 * Turns a whole-set file of an earlier version (rules, locks) into the log at `path`: the log
 * is written first (atomically), then the old file removed, so a crash between leaves both and
 * the log wins. When the data directory records a log that is missing, the old file is left
 * alone (the log is refused at open, and nothing is lost).
 */
export async function convertLegacy<T>(
  path: string,
  legacyPath: string,
  how: { id: Buffer; recorded: boolean; codec: Codec<T>; decode: (data: Buffer) => T[] },
): Promise<void> {
  let data: Buffer;
  try {
    data = await readRegularFile(legacyPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const logExists = await stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
  if (!logExists) {
    if (how.recorded) return;
    let values: T[];
    try {
      values = how.decode(data);
    } catch {
      throw new Error(`${legacyPath} is damaged; restore it from a backup of the data directory`);
    }
    await replaceFile(path, compacted(how.codec, how.id, values));
  }
  await rm(legacyPath, { force: true });
}
