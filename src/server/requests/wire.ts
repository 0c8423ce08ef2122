/**
 * Small conversions between the wire's shapes and plain values: state names, label-value
 * maps, request IDs.
 */
import { randomBytes } from 'node:crypto';
import { RequestState } from '../../gen/teleport/legacy/types/types.js';
import type { LabelValues } from '../../gen/teleport/legacy/types/wrappers/wrappers.js';

export function stateName(state: RequestState): string {
  return RequestState[state] ?? String(state);
}

export function fromLabelValues(lv: LabelValues | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(lv?.values ?? {})) out[k] = [...(v?.values ?? [])];
  return out;
}

export function toLabelValues(map: Readonly<Record<string, readonly string[]>>): LabelValues {
  return { values: Object.fromEntries(Object.entries(map).map(([k, v]) => [k, { values: [...v] }])) };
}

export function dedupe(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/** A time-ordered (version 7) UUID: its first 48 bits are `now` in milliseconds. */
export function uuidv7(now: Date): string {
  const b = randomBytes(16);
  let ms = BigInt(now.getTime());
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
