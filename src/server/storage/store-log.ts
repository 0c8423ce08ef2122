/**
 * The request log's records: encoding one, replaying a log (resynchronising past damage),
 * copying damage aside and compacting to the live records.
 */
import { dirname } from 'node:path';
import { status } from '@grpc/grpc-js';
import { AccessRequestV3 } from '../../gen/teleport/legacy/types/types.js';
import { ServerError } from '../types.js';
import { replaceFile, syncDir, writeSynced } from './durable-file.js';
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
import { idOf } from './store-index.js';

export function encodeRecord(op: number, body: Uint8Array): Buffer {
  // Replay treats a longer record as corruption, so one must never be acknowledged.
  if (1 + body.length > MAX_RECORD_BYTES) {
    throw new ServerError(
      status.RESOURCE_EXHAUSTED,
      `access request is too large to store (${body.length} bytes, max ${MAX_RECORD_BYTES - 1})`,
    );
  }
  return encodeFrame(op, body);
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

export interface Replayed {
  live: Map<string, { req: AccessRequestV3; bytes: number }>;
  revision: number;
  /** Ranges that are not valid records, or valid frames whose body does not decode. */
  damaged: Range[];
  recovered: number;
}

/** Replays every intact record of `data` in order; whatever is not one is reported. */
export function replay(data: Buffer): Replayed {
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
export async function copyAside(
  path: string,
  data: Buffer,
  ranges: Range[],
  recovered: number,
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
    return { copiedTo, ranges, bytes, recovered };
  }
}

/** Rewrites the log with only live records: temp file, fsync, rename, fsync the directory. */
export async function compact(path: string, live: Map<string, { req: AccessRequestV3 }>): Promise<void> {
  const parts: Buffer[] = [MAGIC];
  for (const { req } of live.values()) parts.push(encodeRecord(OP_PUT, AccessRequestV3.encode(req).finish()));
  await replaceFile(path, Buffer.concat(parts));
}
