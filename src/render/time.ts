import { formatDurationShort } from '../model/duration.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** Go's time.RFC822 in UTC, as tctl prints `Created At (UTC)`: `21 Nov 26 10:00 UTC`. */
export function formatRfc822(d: Date): string {
  return `${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
}

/** `2026-11-21 10:00:00 UTC`: a full, unambiguous time for detail views. */
export function formatUtc(d: Date): string {
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC`;
}

/** Time left until `target`, for TTL columns: `6d23h`, `45m`; `expired` once passed. */
export function formatTtl(target: Date | undefined, now: Date): string {
  if (!target) return '';
  const ms = target.getTime() - now.getTime();
  if (ms <= 0) return 'expired';
  return formatDurationShort(ms);
}

/** Relative form for prose: `in 6d23h` or `5m ago`. */
export function formatRelative(target: Date, now: Date): string {
  const ms = target.getTime() - now.getTime();
  if (Math.abs(ms) < 1000) return 'now';
  return ms > 0 ? `in ${formatDurationShort(ms)}` : `${formatDurationShort(-ms)} ago`;
}
