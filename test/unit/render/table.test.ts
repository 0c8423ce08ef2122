import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import {
  formatKeyValues,
  keyValueLines,
  layoutTable,
  printTable,
  tableLines,
  tableWriter,
} from '../../../src/render/table.js';
import { breakWord, wrapCommand, wrapWords } from '../../../src/render/wrap.js';
import { fakeIO } from '../../helpers/run-cli.js';

const HEADERS = ['ID', 'User', 'Reason'];
const ROWS = [
  ['r1', 'alice', 'ticket 42'],
  ['r2-long-id', 'bob', ''],
];

describe('tables', () => {
  test('off a TTY: same columns, no box drawing, aligned with two spaces, one row a line', async () => {
    const io = fakeIO({ isTTY: false });
    await printTable(io, HEADERS, ROWS);
    expect(io.out.text).toBe(
      ['ID          User   Reason', 'r1          alice  ticket 42', 'r2-long-id  bob    -', ''].join('\n'),
    );
  });

  test('off a TTY, rows are written batch by batch and stay aligned', async () => {
    const io = fakeIO({ isTTY: false });
    const w = tableWriter(io, ['A', 'B']);
    await w.add([['x', '1']]);
    expect(io.out.text).toBe('A  B\nx  1\n');
    await w.add([['yy', '2']]);
    await w.end();
    expect(io.out.text).toBe('A  B\nx  1\nyy  2\n');
    expect(w.count).toBe(2);
  });

  test('off a TTY, newlines inside a cell never split a row', async () => {
    const io = fakeIO({ isTTY: false });
    await printTable(io, ['A'], [['one\ntwo']]);
    expect(io.out.text).toBe('A\none\\ntwo\n');
  });

  test('off a TTY, a batch waits for a slow reader before the next one is made', async () => {
    const stream = Object.assign(new EventEmitter(), {
      text: '',
      write(chunk: string) {
        this.text += chunk;
        return false; // the reader is behind
      },
    });
    const w = tableWriter({ ...fakeIO({ isTTY: false }), stdout: stream }, ['A']);
    let added = false;
    const adding = w.add([['x']]).then(() => {
      added = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.text).toBe('A\nx\n');
    expect(added).toBe(false);
    stream.emit('drain');
    await adding;
  });

  test('an empty table still prints its header', async () => {
    const io = fakeIO({ isTTY: false });
    await printTable(io, HEADERS, []);
    expect(io.out.text).toBe('ID  User  Reason\n');
  });

  test('on a TTY: borderless, aligned, without colour when colour is off', async () => {
    const io = fakeIO({ isTTY: true, env: { NO_COLOR: '1' } });
    await printTable(io, HEADERS, ROWS);
    expect(io.out.text).toBe(
      ['ID          User   Reason', 'r1          alice  ticket 42', 'r2-long-id  bob', ''].join('\n'),
    );
  });

  test('on a TTY an empty table prints nothing (the caller says so on stderr)', async () => {
    const io = fakeIO({ isTTY: true, env: { NO_COLOR: '1' } });
    expect(await printTable(io, HEADERS, [])).toEqual([]);
    expect(io.out.text).toBe('');
  });

  test('on a TTY with colour, headers are bold', async () => {
    const io = fakeIO({ isTTY: true, env: {} });
    await printTable(io, ['A'], [['1']]);
    expect(io.out.text).toContain('\x1b[1mA\x1b[22m');
  });
});

describe('fitting a width', () => {
  const theme = { bold: (s: string) => s, state: (s: string) => s };
  const headers = ['ID', 'State', 'Resources', 'Reason'];
  const id = '0193c1e2-aaaa-7bbb-8ccc-000000000001';
  const rows = [
    [
      id,
      'PENDING',
      '/local/node/8c3e2a6e-0c1e-4d6a-9a5b-0f9a2b1c3d4e,/local/db/orders',
      'rotate the orders database keys',
    ],
    [id.replace('1', '2'), 'DENIED', '', ''],
  ];
  const opts = { priority: [0, 1, 2, 3], required: 2, wrap: 3, lists: [2] };

  test('columns are kept by priority, whole; the wrap column takes the room left', () => {
    const wide = layoutTable(headers, rows, 200, opts);
    expect(wide.keep).toEqual([0, 1, 2, 3]);
    expect(wide.mode === 'table' && wide.widths[3]).toBe(31);
    // Resources (48) no longer fits beside ID and State: it is left out, the reason wraps.
    expect(layoutTable(headers, rows, 80, opts).keep).toEqual([0, 1, 3]);
    const narrow = layoutTable(headers, rows, 70, opts);
    expect(narrow.keep).toEqual([0, 1, 3]);
    expect(narrow.mode === 'table' && narrow.widths[3]).toBe(23);
    // Not even the reason at its narrowest (20): ID and State only.
    expect(layoutTable(headers, rows, 60, opts).keep).toEqual([0, 1]);
  });

  test('a column empty in every row is left out', () => {
    const layout = layoutTable(
      ['A', 'B'],
      [
        ['x', ''],
        ['y', ''],
      ],
      80,
    );
    expect(layout.keep).toEqual([0]);
  });

  test('narrower than the required columns: one block of key: value lines per row', () => {
    expect(layoutTable(headers, rows, 40, opts).mode).toBe('blocks');
    const lines = tableLines(headers, rows, 40, opts, theme);
    expect(lines).toEqual([
      `ID: ${id}`,
      'State: PENDING',
      'Resources:',
      '  /local/node/',
      '  8c3e2a6e-0c1e-4d6a-9a5b-0f9a2b1c3d4e',
      '  /local/db/orders',
      'Reason: rotate the orders database keys',
      '',
      `ID: ${id.replace('1', '2')}`,
      'State: DENIED',
    ]);
  });

  for (const width of [40, 52, 60, 70, 80, 100, 120, 160]) {
    test(`at ${width} columns no line is wider, and no word or ID is cut`, () => {
      const lines = tableLines(headers, rows, width, opts, theme);
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
      const words = lines.join('\n').split(/\s+/);
      expect(words).toContain(id);
      if (layoutTable(headers, rows, width, opts).keep.includes(3)) {
        for (const w of rows[0][3].split(' ')) expect(words).toContain(w);
      }
    });
  }

  test('wrapWords breaks between words, and a word too long after a slash', () => {
    expect(wrapWords('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(breakWord('/local/node/abc', 8)).toEqual(['/local/', 'node/abc']);
    expect(breakWord('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    // The break that leaves the rest whole on the next line wins: a UUID is not cut.
    const uuid = '6feeb2ae-ea2e-4a51-950c-afa9b7fa142a';
    expect(breakWord(`access-request-${uuid}`, 38)).toEqual(['access-request-', uuid]);
  });

  test('a command wraps between arguments with a continuation backslash', () => {
    const lines = wrapCommand('> access request create --resource /a/b --reason <reason>', 30);
    expect(lines).toEqual(['> access request create \\', '  --resource /a/b --reason \\', '  <reason>']);
  });

  for (const width of [30, 40, 50]) {
    test(`at ${width} columns a command still pastes as the same words, an argument longer than a line included`, () => {
      const command = `> access request create --resource /local/node/${'8c3e2a6e-0c1e-4d6a-9a5b-0f9a2b1c3d4e'} --reason <reason>`;
      const lines = wrapCommand(command, width);
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
      // What the shell does with backslash-newline: removes both.
      expect(lines.join('\n').replace(/\\\n/g, '').split(/\s+/)).toEqual(command.split(' '));
    });
  }

  test('key-value blocks at a width: aligned while the longest word fits, else each after its key', () => {
    expect(
      keyValueLines(
        [
          ['ID', 'r1'],
          ['Reason', 'a b c d'],
        ],
        12,
      ),
    ).toEqual(['ID:     r1', 'Reason: a b', '        c d']);
    expect(
      keyValueLines(
        [
          ['ID', 'r1'],
          ['Long Key Name', 'abcdefghijk'],
        ],
        20,
      ),
    ).toEqual(['ID: r1', 'Long Key Name:', '  abcdefghijk']);
  });
});

describe('key-value blocks', () => {
  test('key-value blocks align values and indent continuation lines', () => {
    expect(
      formatKeyValues([
        ['ID', 'r1'],
        ['Resources', ['a', 'b']],
      ]),
    ).toBe('ID:        r1\nResources: a\n           b');
  });
});
