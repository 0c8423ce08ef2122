import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseFormat, printJson, printYaml, structuredListWriter } from '../../../src/render/format.js';
import { startSpinner } from '../../../src/render/spinner.js';
import { makeTheme } from '../../../src/render/theme.js';
import { formatRelative, formatRfc822, formatTtl, formatUtc } from '../../../src/render/time.js';
import { fakeIO } from '../../helpers/run-cli.js';

describe('structured output', () => {
  test('printJson writes one document ending in a newline', () => {
    const io = fakeIO();
    printJson(io, { a: [1] });
    expect(io.out.text).toBe('{\n  "a": [\n    1\n  ]\n}\n');
    expect(io.err.text).toBe('');
  });

  test('printYaml writes the same structure', async () => {
    const io = fakeIO();
    await printYaml(io, { a: [1], b: null });
    expect(parseYaml(io.out.text)).toEqual({ a: [1], b: null });
  });

  test('a streamed JSON list is one valid array, [] when empty', async () => {
    for (const items of [[], [{ id: 'a' }], [{ id: 'a' }, { id: 'b', n: [1, 2] }, { id: 'c', m: {} }]]) {
      const io = fakeIO();
      const w = await structuredListWriter(io, 'json');
      // Pages of one, an empty page, then the rest: the same bytes as one document.
      w.add(items.slice(0, 1));
      w.add([]);
      w.add(items.slice(1));
      w.end();
      expect(JSON.parse(io.out.text)).toEqual(items);
      expect(io.out.text.endsWith('\n')).toBe(true);
      expect(io.out.text).toBe(`${JSON.stringify(items, null, 2)}\n`);
    }
  });

  test('a streamed list waits for a slow reader instead of queueing pages in memory', async () => {
    for (const format of ['json', 'yaml'] as const) {
      const stream = Object.assign(new EventEmitter(), {
        chunks: [] as string[],
        write(chunk: string) {
          this.chunks.push(chunk);
          return false; // the reader is behind
        },
      });
      const io = { ...fakeIO(), stdout: stream };
      const w = await structuredListWriter(io, format);
      w.add([{ id: 'a' }]);
      let drained = false;
      const draining = w.drain().then(() => {
        drained = true;
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(stream.chunks).toHaveLength(1);
      expect(drained).toBe(false);
      stream.emit('drain');
      await draining;
      expect(stream.listenerCount('drain') + stream.listenerCount('close')).toBe(0);
    }
  });

  test('a streamed YAML list parses to the same array', async () => {
    for (const items of [[], [{ id: 'a', roles: ['x'] }, { id: 'b' }]]) {
      const io = fakeIO();
      const w = await structuredListWriter(io, 'yaml');
      w.add(items.slice(0, 1));
      w.add(items.slice(1));
      w.end();
      expect(parseYaml(io.out.text)).toEqual(items);
    }
  });

  test('parseFormat accepts text, json, yaml only', () => {
    expect(parseFormat('json')).toBe('json');
    expect(() => parseFormat('table')).toThrow('unsupported format "table" for --format');
  });
});

describe('theme', () => {
  test('no escape codes when colour is off', () => {
    const t = makeTheme(false);
    expect(t.state('APPROVED') + t.bold('b')).toBe('APPROVEDb');
  });

  test('escape codes when colour is on', () => {
    expect(makeTheme(true).state('DENIED')).toBe('\x1b[31mDENIED\x1b[39m');
  });
});

describe('spinner', () => {
  test('draws nothing when stderr is not a TTY; logged lines still go to stderr', async () => {
    const io = fakeIO();
    const s = await startSpinner(io, 'waiting');
    s.update('still waiting');
    s.log('reconnecting');
    s.stop();
    expect(io.err.text).toBe('reconnecting\n');
    expect(io.out.text).toBe('');
  });
});

describe('times', () => {
  const now = new Date('2026-11-21T10:00:00Z');

  test('RFC822 in UTC as tctl prints it', () => {
    expect(formatRfc822(new Date('2026-11-21T10:00:59Z'))).toBe('21 Nov 26 10:00 UTC');
    expect(formatRfc822(new Date('2027-01-02T03:04:00+01:00'))).toBe('02 Jan 27 02:04 UTC');
  });

  test('full UTC time', () => {
    expect(formatUtc(new Date('2026-11-21T10:00:05Z'))).toBe('2026-11-21 10:00:05 UTC');
  });

  test('TTL columns', () => {
    expect(formatTtl(new Date('2026-11-28T09:00:00Z'), now)).toBe('6d23h');
    expect(formatTtl(new Date('2026-11-21T10:45:00Z'), now)).toBe('45m');
    expect(formatTtl(new Date('2026-11-21T09:00:00Z'), now)).toBe('expired');
    expect(formatTtl(undefined, now)).toBe('');
  });

  test('relative times', () => {
    expect(formatRelative(new Date('2026-11-28T09:00:00Z'), now)).toBe('in 6d23h');
    expect(formatRelative(new Date('2026-11-21T09:55:00Z'), now)).toBe('5m ago');
    expect(formatRelative(now, now)).toBe('now');
  });
});
