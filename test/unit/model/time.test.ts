import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GO_ZERO_TIME_MS, isUnsetTime, parseRfc3339, toIsoOrNull } from '../../../src/model/time.js';
import { usageMessage } from './helpers.js';

describe('isUnsetTime', () => {
  it('treats undefined, null and invalid dates as unset', () => {
    expect(isUnsetTime(undefined)).toBe(true);
    expect(isUnsetTime(null)).toBe(true);
    expect(isUnsetTime(new Date(Number.NaN))).toBe(true);
  });

  it("treats Go's zero time (year 1) and anything before it as unset", () => {
    expect(GO_ZERO_TIME_MS).toBe(Date.parse('0001-01-01T00:00:00Z'));
    expect(isUnsetTime(new Date('0001-01-01T00:00:00Z'))).toBe(true);
    expect(isUnsetTime(new Date(GO_ZERO_TIME_MS - 1))).toBe(true);
    expect(isUnsetTime(new Date(GO_ZERO_TIME_MS + 1))).toBe(false);
  });

  it('treats the Unix epoch and ordinary times as set', () => {
    expect(isUnsetTime(new Date(0))).toBe(false);
    expect(isUnsetTime(new Date('2026-11-21T10:00:00Z'))).toBe(false);
  });
});

describe('toIsoOrNull', () => {
  it('is null when unset', () => {
    expect(toIsoOrNull(undefined)).toBeNull();
    expect(toIsoOrNull(new Date('0001-01-01T00:00:00Z'))).toBeNull();
    expect(toIsoOrNull(new Date('invalid'))).toBeNull();
  });

  it('writes UTC with Z and no milliseconds when there are none', () => {
    expect(toIsoOrNull(new Date('2026-11-21T12:00:00+02:00'))).toBe('2026-11-21T10:00:00Z');
    expect(toIsoOrNull(new Date(0))).toBe('1970-01-01T00:00:00Z');
  });

  it('keeps milliseconds when present', () => {
    expect(toIsoOrNull(new Date('2026-11-21T10:00:00.250Z'))).toBe('2026-11-21T10:00:00.250Z');
  });

  /** What toIsoOrNull promises: toISOString without a `.000`. */
  const expected = (d: Date) => d.toISOString().replace(/\.000Z$/, 'Z');

  it('writes what toISOString writes, for every set time', () => {
    for (const text of [
      '0001-01-01T00:00:00.001Z',
      '0099-12-31T23:59:59.999Z',
      '1969-12-31T23:59:59.999Z',
      '1970-01-01T00:00:00.001Z',
      '2000-02-29T12:00:00Z',
      '2100-03-01T00:00:00Z',
      '9999-12-31T23:59:59.999Z',
      '+010000-01-01T00:00:00.000Z',
      '+275760-09-13T00:00:00.000Z',
    ]) {
      const d = new Date(text);
      expect(toIsoOrNull(d)).toBe(expected(d));
    }
    fc.assert(
      fc.property(fc.integer({ min: GO_ZERO_TIME_MS + 1, max: 8.64e15 }), fc.boolean(), (ms, whole) => {
        const d = new Date(whole ? ms - (ms % 1000) : ms);
        expect(toIsoOrNull(d)).toBe(expected(d));
      }),
      { numRuns: 2000 },
    );
  });

  it('formats times of the same day, the same instant again, and then another day, each as toISOString', () => {
    // toIsoOrNull remembers the last instant and the last day it wrote; neither may leak.
    fc.assert(
      fc.property(
        fc.integer({ min: GO_ZERO_TIME_MS + 1, max: 253_402_300_799_999 }),
        fc.array(fc.integer({ min: -86_400_000, max: 86_400_000 }), { maxLength: 6 }),
        (start, steps) => {
          let ms = start;
          for (const step of [0, ...steps, 0]) {
            ms = Math.min(Math.max(ms + step, GO_ZERO_TIME_MS + 1), 253_402_300_799_999);
            const d = new Date(ms);
            expect(toIsoOrNull(d)).toBe(expected(d));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('parseRfc3339', () => {
  it.each([
    ['2026-11-21T10:00:00Z', '2026-11-21T10:00:00.000Z'],
    ['2026-11-21t10:00:00z', '2026-11-21T10:00:00.000Z'],
    ['2026-11-21T12:30:00+02:30', '2026-11-21T10:00:00.000Z'],
    ['2026-11-21T05:00:00-05:00', '2026-11-21T10:00:00.000Z'],
    ['2023-12-12T23:20:50.52Z', '2023-12-12T23:20:50.520Z'],
    ['2023-12-12T23:20:50.123456789Z', '2023-12-12T23:20:50.123Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000Z'],
  ])('accepts %s', (text, iso) => {
    expect(parseRfc3339(text, 'assume-start-time').toISOString()).toBe(iso);
  });

  it.each([
    ['tomorrow', ''],
    ['', ''],
    ['2026-11-21', ''],
    ['2026-11-21T10:00:00', ''], // no offset
    ['2026-11-21 10:00:00Z', ''],
    ['2026-11-21T10:00Z', ''],
    ['2026-11-21T10:00:00+0200', ''],
    ['2026-11-21T10:00:00.Z', ''],
    [' 2026-11-21T10:00:00Z', ''],
    ['2026-13-01T00:00:00Z', 'month 13 is out of range; '],
    ['2026-00-01T00:00:00Z', 'month 00 is out of range; '],
    ['2026-02-29T00:00:00Z', 'day 29 is out of range; '],
    ['1900-02-29T00:00:00Z', 'day 29 is out of range; '],
    ['2026-04-31T00:00:00Z', 'day 31 is out of range; '],
    ['2026-11-21T24:00:00Z', 'hour 24 is out of range; '],
    ['2026-11-21T10:60:00Z', 'minute 60 is out of range; '],
    ['2026-11-21T10:00:60Z', 'second 60 is out of range; '],
    ['2026-11-21T10:00:00+24:00', 'offset +24:00 is out of range; '],
  ])('rejects %j', (text, detail) => {
    expect(usageMessage(() => parseRfc3339(text, 'assume-start-time'))).toBe(
      `invalid time ${JSON.stringify(text)} for --assume-start-time: ${detail}expected RFC 3339 such as 2026-11-21T10:00:00Z`,
    );
  });

  it('gives the documented message', () => {
    expect(usageMessage(() => parseRfc3339('tomorrow', 'assume-start-time'))).toBe(
      'invalid time "tomorrow" for --assume-start-time: expected RFC 3339 such as 2026-11-21T10:00:00Z',
    );
  });

  it('round-trips with toIsoOrNull', () => {
    const text = '2026-11-21T10:00:00Z';
    expect(toIsoOrNull(parseRfc3339(text, 'x'))).toBe(text);
  });
});
