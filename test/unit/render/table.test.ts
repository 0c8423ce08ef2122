import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import { formatKeyValues, printTable, tableWriter, truncateCell } from '../../../src/render/table.js';
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

  test('on a TTY: a cli-table3 box, without colour when colour is off', async () => {
    const io = fakeIO({ isTTY: true, env: { NO_COLOR: '1' } });
    await printTable(io, HEADERS, ROWS);
    const lines = io.out.text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^┌─+┬/);
    expect(lines[1]).toMatch(/^│ ID\s+│ User\s+│ Reason\s+│$/);
    expect(io.out.text).toContain('│ r2-long-id │ bob   │           │');
    expect(io.out.text).not.toContain('\x1b[');
  });

  test('on a TTY with colour, headers are bold', async () => {
    const io = fakeIO({ isTTY: true, env: {} });
    await printTable(io, ['A'], [['1']]);
    expect(io.out.text).toContain('\x1b[1mA\x1b[22m');
  });

  test('truncateCell marks a cut', () => {
    expect(truncateCell('short', 20, '[+]')).toEqual({ text: 'short', cut: false });
    const cut = truncateCell('/local/node/8c3e2a6e-0c1e', 20, '[+]');
    expect(cut).toEqual({ text: '/local/node/8c3e [+]', cut: true });
    expect(cut.text).toHaveLength(20);
  });

  test('key-value blocks align values and indent continuation lines', () => {
    expect(
      formatKeyValues([
        ['ID', 'r1'],
        ['Resources', ['a', 'b']],
      ]),
    ).toBe('ID:        r1\nResources: a\n           b');
  });
});
