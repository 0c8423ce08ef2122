/**
 * Signatures of webhook POSTs and callbacks: `X-Access-Signature: t=<unix seconds>,v1=<hex>`
 * where the hex is HMAC-SHA256(secret, `<t>.<body>`). A receiver recomputes it over the raw
 * body, compares in constant time, and refuses a `t` outside its window (replays).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-access-signature';
export const EVENT_ID_HEADER = 'x-access-event-id';

export function signature(secret: Buffer, body: string, t: number): string {
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${mac}`;
}

export type Verdict = { ok: true; t: number } | { ok: false; reason: string };

/** Checks a signature header against the body at `nowSec`, allowing `windowSec` either way. */
export function verifySignature(
  secret: Buffer,
  body: string,
  header: string | undefined,
  nowSec: number,
  windowSec: number,
): Verdict {
  if (!header) return { ok: false, reason: `missing ${SIGNATURE_HEADER} header` };
  const parts = Object.fromEntries(
    header.split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
    }),
  );
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(parts.v1 ?? '')) {
    return { ok: false, reason: `malformed ${SIGNATURE_HEADER} header (expected t=<unix seconds>,v1=<hex>)` };
  }
  const want = Buffer.from(signature(secret, body, t).slice(`t=${t},v1=`.length), 'hex');
  if (!timingSafeEqual(want, Buffer.from(parts.v1, 'hex'))) return { ok: false, reason: 'bad signature' };
  if (Math.abs(nowSec - t) > windowSec)
    return { ok: false, reason: 'signature timestamp outside the allowed window' };
  return { ok: true, t };
}
