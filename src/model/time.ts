import { UsageError } from './errors.js';
import { flagLabel } from './kv.js';

/** 0001-01-01T00:00:00Z in epoch milliseconds: the zero `time.Time` that Go writes for "unset". */
export const GO_ZERO_TIME_MS = -62_135_596_800_000;

/** {@link isUnsetTime} of a time in epoch milliseconds. */
function isUnsetMs(ms: number): boolean {
  return Number.isNaN(ms) || ms <= GO_ZERO_TIME_MS;
}

/**
 * True when a timestamp carries no time: undefined, an invalid Date, or Go's zero time
 * (anything at or before 0001-01-01T00:00:00Z). The Unix epoch is a real time.
 */
export function isUnsetTime(d: Date | null | undefined): boolean {
  return d === undefined || d === null || isUnsetMs(d.getTime());
}

/** A timestamp that carries a time (not {@link isUnsetTime}). */
export function isSetTime(d: Date | null | undefined): d is Date {
  return !isUnsetTime(d);
}

/** The last time formatted and its text: a request's expiry fields are often the same instant. */
let lastMs = Number.NaN;
let lastText = '';

/** RFC 3339 in UTC (`2026-11-21T10:00:00Z`, with `.123` only when there are milliseconds), or null when unset. */
export function toIsoOrNull(d: Date | null | undefined): string | null {
  if (d === undefined || d === null) return null;
  const ms = d.getTime();
  if (isUnsetMs(ms)) return null;
  if (ms === lastMs) return lastText;
  let text: string;
  if (ms >= MAX_FOUR_DIGIT_YEAR_MS) {
    const iso = d.toISOString();
    text = iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
  } else {
    text = formatUtc(ms);
  }
  lastMs = ms;
  lastText = text;
  return text;
}

/** 10000-01-01T00:00:00Z: from here toISOString writes a six-digit `+YYYYYY` year. */
const MAX_FOUR_DIGIT_YEAR_MS = 253_402_300_800_000;
const DAY_MS = 86_400_000;

/** `00` to `99`, for hours, minutes and seconds. */
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));

/** The last day formatted (days since 1970) and its `YYYY-MM-DD`: a listing's times share few days. */
let lastDay = Number.NaN;
let lastDate = '';

/**
 * `YYYY-MM-DD` of a day counted from 1970-01-01, for years 1–9999: H. Hinnant's
 * `civil_from_days`.
 */
function civilDate(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, '0')}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}`;
}

/**
 * What toISOString writes (without `.000`) for years 1–9999, computed directly: listing
 * 100,000 requests formats over half a million times, and toISOString costs about three
 * times as much.
 */
function formatUtc(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  if (days !== lastDay) {
    lastDate = civilDate(days);
    lastDay = days;
  }
  let rest = ms - days * DAY_MS;
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const milli = rest - second * 1000;
  const text = `${lastDate}T${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}`;
  return milli === 0 ? `${text}Z` : `${text}.${String(milli).padStart(3, '0')}Z`;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Parses a strict RFC 3339 timestamp with `Z` or a numeric offset (`2026-11-21T10:00:00Z`,
 * `2026-11-21T12:00:00.5+02:00`). Fractions beyond milliseconds are truncated. Anything else,
 * including out-of-range fields such as February 30th, throws a UsageError naming the flag.
 */
export function parseRfc3339(s: string, flagName: string): Date {
  function fail(what?: string): never {
    const detail = what ? `${what}; ` : '';
    throw new UsageError(
      `invalid time ${JSON.stringify(s)} for ${flagLabel(flagName)}: ${detail}expected RFC 3339 such as 2026-11-21T10:00:00Z`,
    );
  }
  const m = RFC3339.exec(s);
  if (!m) fail();
  const [, y, mo, d, h, mi, se, frac = '', z, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(se);
  if (month < 1 || month > 12) fail(`month ${mo} is out of range`);
  if (day < 1 || day > daysInMonth(year, month)) fail(`day ${d} is out of range`);
  if (hour > 23) fail(`hour ${h} is out of range`);
  if (minute > 59) fail(`minute ${mi} is out of range`);
  if (second > 59) fail(`second ${se} is out of range`);
  let offsetMinutes = 0;
  if (!z) {
    if (Number(oh) > 23 || Number(om) > 59) fail(`offset ${sign}${oh}:${om} is out of range`);
    offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  }
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return new Date(date.getTime() - offsetMinutes * 60_000);
}
