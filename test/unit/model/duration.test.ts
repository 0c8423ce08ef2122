import { describe, expect, it } from 'vitest';
import { formatDuration, formatDurationShort, parseDuration } from '../../../src/model/duration.js';
import { usageMessage } from './helpers.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each([
    ['90s', 90 * S],
    ['15m', 15 * M],
    ['8h', 8 * H],
    ['1h30m', 90 * M],
    ['1.5h', 90 * M],
    ['1.1h', 66 * M],
    ['300ms', 300],
    ['7d', 7 * D],
    ['1d12h', 36 * H],
    ['2h45m30s', 2 * H + 45 * M + 30 * S],
    ['.5s', 500],
    ['1.s', S],
    ['1500us', 2],
    ['1500µs', 2],
    ['2000000ns', 2],
    ['0', 0],
    ['0s', 0],
    ['+5m', 5 * M],
    ['1m1m', 2 * M],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', /: empty value/],
    ['-5m', /: must not be negative/],
    ['5', /: missing unit after "5"/],
    ['1h30', /: missing unit after "30"/],
    ['5x', /: unknown unit "x"/],
    ['5M', /: unknown unit "M"/],
    ['5mins', /: unknown unit "mins"/],
    ['abc', /: expected a number/],
    ['m5', /: expected a number/],
    ['.', /: expected a number/],
    ['+', /: expected a number/],
    ['1h.m', /: expected a number at "\.m"/],
    ['5 m', /: unexpected " m" after "5"/],
    ['5m!', /: expected a number at "!"/],
    [' 5m', /: expected a number/],
    ['9999999999h', /: too large/],
  ])('rejects %j', (text, pattern) => {
    const message = usageMessage(() => parseDuration(text, 'request-ttl'));
    expect(message).toMatch(pattern);
    expect(message.startsWith(`invalid duration ${JSON.stringify(text)} for --request-ttl: `)).toBe(true);
    expect(message.endsWith('(use e.g. 90s, 15m, 8h, 1h30m, 7d)')).toBe(true);
  });

  it('gives the exact documented message', () => {
    expect(usageMessage(() => parseDuration('5x', 'request-ttl'))).toBe(
      'invalid duration "5x" for --request-ttl: unknown unit "x" (use e.g. 90s, 15m, 8h, 1h30m, 7d)',
    );
  });

  it('names the flag as given when it is already spelled out, and omits it when absent', () => {
    expect(usageMessage(() => parseDuration('x', '--timeout'))).toMatch(
      /^invalid duration "x" for --timeout: /,
    );
    expect(usageMessage(() => parseDuration('x', 'ACCESS_RPC_TIMEOUT'))).toMatch(/ for ACCESS_RPC_TIMEOUT: /);
    expect(usageMessage(() => parseDuration('x'))).toMatch(/^invalid duration "x": /);
  });

  it('does not treat inherited object keys as units', () => {
    expect(usageMessage(() => parseDuration('5constructor'))).toMatch(/unknown unit "constructor"/);
  });
});

describe('formatDuration (Go style)', () => {
  it.each([
    [0, '0s'],
    [45 * S, '45s'],
    [90 * M, '1h30m0s'],
    [8 * H, '8h0m0s'],
    [7 * D, '168h0m0s'],
    [300, '300ms'],
    [1500, '1.5s'],
    [M + 50, '1m0.05s'],
    [-90 * S, '-1m30s'],
    [0.4, '0s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 1000, 61_001, 90 * M, 7 * D + 1234]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe('formatDurationShort (tables)', () => {
  it.each([
    [0, '0s'],
    [30 * S, '30s'],
    [400, '0s'],
    [59 * S, '59s'],
    [59.6 * S, '1m'],
    [90 * S, '2m'],
    [7 * H + 59 * M, '7h59m'],
    [7 * H + 59 * M + 20 * S, '7h59m'],
    [2 * H, '2h'],
    [7 * D, '7d'],
    [7 * D - 10 * S, '7d'],
    [6 * D + 23 * H + 30 * S, '6d23h'],
    [6 * D + 23 * H + 59 * M, '6d23h'],
    [D + 5 * M, '1d'],
    [-(5 * M), '-5m'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDurationShort(ms)).toBe(text);
  });
});
