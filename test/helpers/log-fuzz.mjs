// The replay fuzz property of issue 10, shared by test/reliability/replay-fuzz.test.ts (on
// src/) and test/bench/replay-fuzz.bench.mjs (on dist/, many more cases). Plain JS so both
// can load it; the log-frame module under test is passed in.
import fc from 'fast-check';

/** A log of 0..maxRecords records with small random bodies. */
function logArbitrary(frame, maxRecords) {
  const record = fc.record({
    op: fc.constantFrom(1, 2),
    body: fc.uint8Array({ minLength: 0, maxLength: 80 }),
  });
  return fc.array(record, { maxLength: maxRecords }).map((records) => {
    const parts = [frame.MAGIC];
    const spans = [];
    let off = frame.MAGIC.length;
    for (const r of records) {
      const bytes = frame.encodeFrame(r.op, r.body);
      parts.push(bytes);
      spans.push({ start: off, end: off + bytes.length });
      off += bytes.length;
    }
    return { data: Buffer.concat(parts), spans };
  });
}

/** Truncations, bit flips, zeroed and random-filled ranges, applied after the magic. */
const damageArbitrary = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('truncate'), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({
      kind: fc.constant('flip'),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({
      kind: fc.constantFrom('zero', 'garbage'),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      length: fc.integer({ min: 1, max: 64 }),
      seed: fc.integer({ min: 0, max: 255 }),
    }),
  ),
  { minLength: 1, maxLength: 4 },
);

function applyDamage(data, magicLength, damages) {
  let out = Buffer.from(data);
  for (const d of damages) {
    const room = out.length - magicLength;
    if (room <= 0) break;
    const at = magicLength + Math.min(room - 1, Math.floor(d.at * room));
    if (d.kind === 'truncate') out = out.subarray(0, at);
    else if (d.kind === 'flip') out[at] ^= 1 << d.bit;
    else {
      const end = Math.min(out.length, at + d.length);
      for (let i = at; i < end; i++) out[i] = d.kind === 'zero' ? 0 : (d.seed * 31 + i * 17) & 0xff;
    }
  }
  return out;
}

/**
 * Checks one damaged log: the scan returns, its frames and damaged ranges cover every
 * byte after the magic exactly once and in order (so whatever is not replayed is copied
 * aside), and every original record still present byte for byte is among the frames.
 * Returns a reason when the property fails, else undefined.
 */
export function checkReplay(frame, log, damaged) {
  const scan = frame.scanFrames(damaged, frame.MAGIC.length);
  const pieces = [...scan.frames, ...scan.damaged].sort((a, b) => a.start - b.start);
  let off = frame.MAGIC.length;
  for (const p of pieces) {
    if (p.start !== off || p.end <= p.start) return `gap or overlap at ${off}`;
    off = p.end;
  }
  if (off !== damaged.length) return `covered up to ${off} of ${damaged.length}`;
  const starts = new Set(scan.frames.map((f) => f.start));
  for (const s of log.spans) {
    const intact =
      s.end <= damaged.length && damaged.subarray(s.start, s.end).equals(log.data.subarray(s.start, s.end));
    if (intact && !starts.has(s.start)) return `lost the intact record at ${s.start}`;
  }
  return undefined;
}

/** Runs the property `numRuns` times (fast-check, seeded when `seed` is given). */
export function fuzzReplay(frame, { numRuns, maxRecords = 16, seed }) {
  fc.assert(
    fc.property(logArbitrary(frame, maxRecords), damageArbitrary, (log, damages) => {
      const damaged = applyDamage(log.data, frame.MAGIC.length, damages);
      const why = checkReplay(frame, log, damaged);
      if (why) throw new Error(why);
    }),
    { numRuns, seed },
  );
}
