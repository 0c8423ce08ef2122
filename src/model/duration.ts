import { UsageError } from './errors.js';
import { flagLabel } from './kv.js';

const EXAMPLES = 'use e.g. 90s, 15m, 8h, 1h30m, 7d';

/** Unit sizes in nanoseconds: Go's units plus `d` (24h), which `access` also accepts. */
const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 MICRO SIGN, as Go accepts
  μs: 1_000n, // U+03BC GREEK SMALL LETTER MU, as Go accepts
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};

/** Go's time.Duration is an int64 of nanoseconds; larger values would not survive the wire. */
const MAX_NS = 2n ** 63n - 1n;

const NUMBER = /^(\d*)(?:\.(\d*))?/;
const UNIT = /^[A-Za-zµμ]+/;

/**
 * Parses a Go-style duration (`90s`, `15m`, `8h`, `1h30m`, `1.5h`, `300ms`, plus `d` for days:
 * `7d`, `1d12h`) into milliseconds, rounded to the nearest millisecond. A bare `0` is accepted,
 * as in Go. Empty, negative, unit-less and unknown-unit values throw a UsageError that names
 * the flag and the value.
 */
export function parseDuration(s: string, flagName?: string): number {
  function fail(what: string): never {
    const where = flagName ? ` for ${flagLabel(flagName)}` : '';
    throw new UsageError(`invalid duration ${JSON.stringify(s)}${where}: ${what} (${EXAMPLES})`);
  }
  if (s === '') fail('empty value');
  let rest = s;
  if (rest.startsWith('-')) fail('must not be negative');
  if (rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '0') return 0;
  if (rest === '') fail('expected a number');

  let totalNs = 0n;
  while (rest !== '') {
    const [numText, whole, frac = ''] = NUMBER.exec(rest) ?? ['', ''];
    if (whole === '' && frac === '') {
      fail(rest === s ? 'expected a number' : `expected a number at ${JSON.stringify(rest)}`);
    }
    rest = rest.slice(numText.length);
    const unitMatch = UNIT.exec(rest);
    if (!unitMatch) {
      if (rest === '') fail(`missing unit after ${JSON.stringify(numText)}`);
      fail(`unexpected ${JSON.stringify(rest)} after ${JSON.stringify(numText)}`);
    }
    const unit = unitMatch[0];
    if (!Object.hasOwn(UNIT_NS, unit)) fail(`unknown unit ${JSON.stringify(unit)}`);
    const size = UNIT_NS[unit];
    rest = rest.slice(unit.length);
    // Integer arithmetic in nanoseconds so that 1.1h is exactly 66m, as in Go.
    totalNs += BigInt(whole || '0') * size;
    if (frac !== '') totalNs += (BigInt(frac) * size) / 10n ** BigInt(frac.length);
    if (totalNs > MAX_NS) fail('too large (at most about 290 years)');
  }
  return Number((totalNs + 500_000n) / 1_000_000n);
}

/**
 * Go's `time.Duration.String()` for a millisecond count: `1h30m0s`, `45s`, `1.5s`, `300ms`,
 * `0s`. Hours are never folded into days, as in Go.
 */
export function formatDuration(ms: number): string {
  let rounded = Math.round(ms);
  if (rounded === 0) return '0s';
  const sign = rounded < 0 ? '-' : '';
  rounded = Math.abs(rounded);
  if (rounded < 1000) return `${sign}${rounded}ms`;
  const hours = Math.floor(rounded / 3_600_000);
  const minutes = Math.floor((rounded % 3_600_000) / 60_000);
  const millis = rounded % 60_000;
  const whole = Math.floor(millis / 1000);
  const frac = millis % 1000;
  const seconds = frac === 0 ? `${whole}` : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

/**
 * A compact duration for table cells: under a minute in whole seconds (`30s`), otherwise rounded
 * to the minute (as tctl rounds its TTL columns) and shown as the two most significant of
 * days/hours/minutes, leaving out a zero second unit: `6d23h`, `7h59m`, `2h`, `7d`.
 */
export function formatDurationShort(ms: number): string {
  if (ms < 0) return `-${formatDurationShort(-ms)}`;
  if (ms < 59_500) return `${Math.round(ms / 1000)}s`;
  const totalMinutes = Math.round(ms / 60_000);
  const parts: [number, string][] = [
    [Math.floor(totalMinutes / 1440), 'd'],
    [Math.floor((totalMinutes % 1440) / 60), 'h'],
    [totalMinutes % 60, 'm'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  const [n1, u1] = parts[first];
  const second = parts[first + 1];
  return second && second[0] > 0 ? `${n1}${u1}${second[0]}${second[1]}` : `${n1}${u1}`;
}

/** How long one unary RPC may take unless --rpc-timeout says otherwise (spec/cli.md). */
export const DEFAULT_RPC_TIMEOUT_MS = 30_000;
