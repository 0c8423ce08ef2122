import { describe, expect, it } from 'vitest';
import { flagLabel, parseKeyValues, parseLabels, splitList } from '../../../src/model/kv.js';
import { usageMessage } from './helpers.js';

describe('parseKeyValues', () => {
  it('collects repeated keys in order', () => {
    expect(parseKeyValues('ticket=42,env=prod,ticket=43', 'annotations')).toEqual({
      ticket: ['42', '43'],
      env: ['prod'],
    });
  });

  it('keeps everything after the first "=" and trims spaces around pairs', () => {
    expect(parseKeyValues(' q = a=b , k=v', 'annotations')).toEqual({ q: ['a=b'], k: ['v'] });
  });

  it('ignores empty items from stray commas and returns {} for an empty string', () => {
    expect(parseKeyValues('a=1,,b=2,', 'annotations')).toEqual({ a: ['1'], b: ['2'] });
    expect(parseKeyValues('', 'annotations')).toEqual({});
  });

  it('keeps __proto__ as an ordinary key', () => {
    const out = parseKeyValues('__proto__=x', 'annotations');
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it.each([
    ['a', 'invalid --annotations "a": expected key=value'],
    ['k=v,a', 'invalid --annotations "a": expected key=value'],
    ['=v', 'invalid --annotations "=v": empty key'],
    ['k=', 'invalid --annotations "k=": empty value for "k"'],
    ['k=v, x = ', 'invalid --annotations "x =": empty value for "x"'],
  ])('rejects %j', (text, message) => {
    expect(usageMessage(() => parseKeyValues(text, 'annotations'))).toBe(message);
  });
});

describe('parseLabels', () => {
  it('parses single-valued labels', () => {
    expect(parseLabels('env=prod,team=db', 'labels')).toEqual({ env: 'prod', team: 'db' });
  });

  it('rejects a repeated key, naming the pair', () => {
    expect(usageMessage(() => parseLabels('env=prod,env=dev', 'labels'))).toBe(
      'invalid --labels "env=dev": duplicate key "env"',
    );
  });

  it('rejects malformed pairs like parseKeyValues', () => {
    expect(usageMessage(() => parseLabels('env', 'labels'))).toBe(
      'invalid --labels "env": expected key=value',
    );
  });
});

describe('splitList', () => {
  it('splits on commas and whitespace and drops empties', () => {
    expect(splitList('a,b c,, d\te\n')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(splitList('')).toEqual([]);
    expect(splitList(' , ')).toEqual([]);
  });
});

describe('flagLabel', () => {
  it('adds -- to a bare flag name and leaves other names alone', () => {
    expect(flagLabel('request-ttl')).toBe('--request-ttl');
    expect(flagLabel('--labels')).toBe('--labels');
    expect(flagLabel('ACCESS_RPC_TIMEOUT')).toBe('ACCESS_RPC_TIMEOUT');
  });
});
