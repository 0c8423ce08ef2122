import { UsageError } from './errors.js';

/**
 * How a flag is named in an error: `request-ttl` → `--request-ttl`. A name that already
 * starts with `-`, or that is not a lower-case flag name (e.g. an env var such as
 * `ACCESS_RPC_TIMEOUT`), is used as given.
 */
export function flagLabel(flagName: string): string {
  return /^[a-z][a-z0-9-]*$/.test(flagName) ? `--${flagName}` : flagName;
}

interface Pair {
  raw: string;
  key: string;
  value: string;
}

function splitPairs(s: string, flagName: string): Pair[] {
  const flag = flagLabel(flagName);
  const pairs: Pair[] = [];
  for (const item of s.split(',')) {
    const raw = item.trim();
    // A trailing or doubled comma is a typo with an obvious meaning, not a bad pair.
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    if (eq < 0) throw new UsageError(`invalid ${flag} ${JSON.stringify(raw)}: expected key=value`);
    const key = raw.slice(0, eq).trim();
    const value = raw.slice(eq + 1).trim();
    if (key === '') throw new UsageError(`invalid ${flag} ${JSON.stringify(raw)}: empty key`);
    if (value === '') {
      throw new UsageError(`invalid ${flag} ${JSON.stringify(raw)}: empty value for ${JSON.stringify(key)}`);
    }
    pairs.push({ raw, key, value });
  }
  return pairs;
}

/**
 * Parses `k=v,k=v` into multi-valued annotations; a repeated key collects its values in order.
 * The value is everything after the first `=`. Throws a UsageError naming the bad pair.
 */
export function parseKeyValues(s: string, flagName: string): Record<string, string[]> {
  // A Map, then fromEntries, so that a key such as `__proto__` stays an ordinary key.
  const out = new Map<string, string[]>();
  for (const { key, value } of splitPairs(s, flagName)) {
    const values = out.get(key);
    if (values) values.push(value);
    else out.set(key, [value]);
  }
  return Object.fromEntries(out);
}

/** Parses `k=v,k=v` into single-valued labels; a repeated key is an error. */
export function parseLabels(s: string, flagName: string): Record<string, string> {
  const out = new Map<string, string>();
  for (const { raw, key, value } of splitPairs(s, flagName)) {
    if (out.has(key)) {
      throw new UsageError(
        `invalid ${flagLabel(flagName)} ${JSON.stringify(raw)}: duplicate key ${JSON.stringify(key)}`,
      );
    }
    out.set(key, value);
  }
  return Object.fromEntries(out);
}

/** Splits `a,b c` on commas and whitespace, dropping empty items. */
export function splitList(s: string): string[] {
  return s.split(/[\s,]+/).filter((x) => x !== '');
}
