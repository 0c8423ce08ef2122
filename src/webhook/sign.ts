/**
 * Signatures of webhook POSTs and callbacks: `X-Access-Signature: t=<unix seconds>,v1=<hex>`
 * where the hex is HMAC-SHA256(secret, `<t>.<body>`). A receiver recomputes it over the raw
 * body, compares in constant time, and refuses a `t` outside its window (replays).
 *
 * Exactly one spelling is accepted: `t` first, in decimal without a leading zero, then `v1` as
 * 64 lowercase hex digits, no spaces and nothing else. Any other spelling of the same
 * signature would be a second "unused" header for the replay check.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-access-signature';
export const EVENT_ID_HEADER = 'x-access-event-id';

const HEADER_GRAMMAR = /^t=(0|[1-9][0-9]{0,11}),v1=([0-9a-f]{64})$/;

export function signature(secret: Buffer, body: string, t: number): string {
  return `t=${t},v1=${mac(secret, body, t)}`;
}

function mac(secret: Buffer, body: string, t: number): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

/** A header in the one accepted spelling, parsed; undefined for anything else. */
export function parseSignatureHeader(header: string): { t: number; v1: string } | undefined {
  const m = HEADER_GRAMMAR.exec(header);
  return m ? { t: Number(m[1]), v1: m[2] } : undefined;
}

/** `key` identifies the signature itself (its parsed `t` and `v1`), for the replay check. */
export type Verdict = { ok: true; t: number; key: string } | { ok: false; reason: string };

/** Checks a signature header against the body at `nowSec`, allowing `windowSec` either way. */
export function verifySignature(
  secret: Buffer,
  body: string,
  header: string | undefined,
  nowSec: number,
  windowSec: number,
): Verdict {
  if (!header) return { ok: false, reason: `missing ${SIGNATURE_HEADER} header` };
  const parsed = parseSignatureHeader(header);
  if (!parsed) {
    return { ok: false, reason: `malformed ${SIGNATURE_HEADER} header (expected t=<unix seconds>,v1=<hex>)` };
  }
  const { t, v1 } = parsed;
  const want = Buffer.from(mac(secret, body, t), 'hex');
  if (!timingSafeEqual(want, Buffer.from(v1, 'hex'))) return { ok: false, reason: 'bad signature' };
  if (!(Math.abs(nowSec - t) <= windowSec))
    return { ok: false, reason: 'signature timestamp outside the allowed window' };
  return { ok: true, t, key: `${t}:${v1}` };
}
