/**
 * The framing of the stores' logs, apart from what the records mean: a file header, then
 * records `u32 length | u32 CRC-32 of payload | payload`, payload = op byte + body.
 *
 * Reading is resynchronising: a damaged stretch never hides the intact records after it.
 * When the bytes at an offset are not a valid frame, the scan moves forward byte by byte
 * to the next offset where a whole frame checks (length in range, known op, CRC), and
 * reports the skipped stretch as damaged so the caller can copy it aside.
 */
import { crc32 } from 'node:zlib';

/**
 * Magic of the first log format (no data directory ID); still read, and rewritten in the
 * current one, when the data directory records no log yet (one made before IDs).
 */
export const MAGIC = Buffer.from('ACCESSLOG1\n', 'latin1');
/**
 * Magic of the current format: the header is this magic and the data directory's ID
 * ({@link ID_BYTES}), and every record's body starts with that ID too, so records copied from
 * another directory's log are told apart from this one's. A log starting with anything else
 * is not ours and is never touched.
 */
export const MAGIC_V2 = Buffer.from('ACCESSLOG2\n', 'latin1');
/** Length of a data directory ID (random, in cluster.json). */
export const ID_BYTES = 8;
/** Bytes before the first record in the current format. */
export const HEADER_V2_BYTES = MAGIC_V2.length + ID_BYTES;
export const HEADER_BYTES = 8;
/** Far above any real request (≤300 resources, ≤4 KiB reason); a larger length is corruption. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
export const OP_PUT = 1;
export const OP_DELETE = 2;

/** A frame whose header, op and CRC check; `body` is the payload after the op byte. */
export interface Frame {
  start: number;
  end: number;
  op: number;
  body: Buffer;
}

/** Bytes `[start, end)` of the file that are not part of any valid frame. */
export interface Range {
  start: number;
  end: number;
}

export interface Scan {
  frames: Frame[];
  damaged: Range[];
}

/** One record: header + op + body. Throws when the payload is too large to replay. */
export function encodeFrame(op: number, body: Uint8Array): Buffer {
  const payload = Buffer.allocUnsafe(1 + body.length);
  payload[0] = op;
  payload.set(body, 1);
  const head = Buffer.allocUnsafe(HEADER_BYTES);
  head.writeUInt32BE(payload.length, 0);
  head.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

/** The frame starting at `off`, or undefined when the bytes there are not a whole valid frame. */
export function frameAt(data: Buffer, off: number): Frame | undefined {
  if (data.length - off < HEADER_BYTES + 1) return undefined;
  const len = data.readUInt32BE(off);
  if (len === 0 || len > MAX_RECORD_BYTES || data.length - off - HEADER_BYTES < len) return undefined;
  const op = data[off + HEADER_BYTES];
  // Checked before the CRC: it rejects almost every misaligned offset without hashing.
  if (op !== OP_PUT && op !== OP_DELETE) return undefined;
  const payload = data.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
  if (crc32(payload) !== data.readUInt32BE(off + 4)) return undefined;
  return { start: off, end: off + HEADER_BYTES + len, op, body: payload.subarray(1) };
}

/**
 * Splits `data[from..]` into valid frames and damaged ranges; together they cover every
 * byte exactly once, in file order.
 */
export function scanFrames(data: Buffer, from: number): Scan {
  const frames: Frame[] = [];
  const damaged: Range[] = [];
  let off = from;
  while (off < data.length) {
    const frame = frameAt(data, off);
    if (frame) {
      frames.push(frame);
      off = frame.end;
      continue;
    }
    let next = off + 1;
    while (next < data.length && !frameAt(data, next)) next++;
    damaged.push({ start: off, end: next });
    off = next;
  }
  return { frames, damaged };
}
