import { escapeControls } from './escape.js';
import { type IO, writeWithBackpressure } from './io.js';

/**
 * Writes rows as they arrive. On a TTY the rows are kept and drawn as one cli-table3 table
 * at `end()`, which is the only place cli-table3 and chalk load. Otherwise each batch is written at once as plain lines (columns padded and
 * separated by two spaces, no box drawing, no truncation), so `grep`/`awk` work and memory
 * is bounded by a batch; widths only grow, so later batches stay aligned with earlier ones
 * unless a wider value arrives.
 */
export interface TableWriter {
  /** Resolves once the batch is written and, off a TTY, the reader has caught up. */
  add(rows: readonly (readonly string[])[]): Promise<void>;
  end(): Promise<void>;
  /** Rows added so far. */
  readonly count: number;
}

/** Plain-mode cell: one line (escaped, so a newline in a value cannot start a row), and a visible placeholder for an empty value so columns stay countable. */
function plainCell(s: string): string {
  const flat = escapeControls(s);
  return flat === '' ? '-' : flat;
}

function padLine(cells: readonly string[], widths: number[]): string {
  const last = cells.length - 1;
  return cells
    .map((c, i) => (i === last ? c : c.padEnd(widths[i])))
    .join('  ')
    .trimEnd();
}

export function tableWriter(io: IO, headers: readonly string[]): TableWriter {
  let count = 0;
  if (io.stdoutIsTTY) {
    const kept: string[][] = [];
    return {
      get count() {
        return count;
      },
      async add(rows) {
        for (const r of rows) kept.push(r.map(escapeControls));
        count += rows.length;
      },
      async end() {
        const [{ default: Table }, { themeFor }] = await Promise.all([
          import('cli-table3'),
          import('./theme.js'),
        ]);
        const theme = themeFor(io);
        const table = new Table({
          head: headers.map((h) => theme.bold(h)),
          style: { head: [], border: [] },
        });
        table.push(...kept);
        io.stdout.write(`${table.toString()}\n`);
      },
    };
  }
  const widths = headers.map((h) => h.length);
  let headerWritten = false;
  return {
    get count() {
      return count;
    },
    async add(rows) {
      const cells = rows.map((r) => r.map(plainCell));
      for (const r of cells) {
        for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
      }
      let out = '';
      if (!headerWritten) {
        out += `${padLine(headers, widths)}\n`;
        headerWritten = true;
      }
      for (const r of cells) out += `${padLine(r, widths)}\n`;
      count += rows.length;
      await writeWithBackpressure(io.stdout, out);
    },
    async end() {
      if (!headerWritten) io.stdout.write(`${padLine(headers, widths)}\n`);
    },
  };
}

/** A whole table at once. */
export async function printTable(
  io: IO,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): Promise<void> {
  const w = tableWriter(io, headers);
  await w.add(rows);
  await w.end();
}

/** A `Key: value` value: one line, or several (a list) printed one under the other. */
export type KeyValue = string | readonly string[];

/**
 * A headless `Key: value` block, as `tctl requests get` and `tsh request show` print,
 * identical on and off a TTY. A list value is printed one item a line, indented under the
 * value column. Every value line is escaped, so a value can never add a line of its own.
 */
export function formatKeyValues(pairs: readonly (readonly [string, KeyValue])[]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length + 1));
  return pairs
    .map(([k, v]) => {
      const pad = `${k}:`.padEnd(width + 1);
      const lines = (typeof v === 'string' ? [v] : v).map(escapeControls);
      return `${pad}${lines.join(`\n${' '.repeat(width + 1)}`)}`.trimEnd();
    })
    .join('\n');
}

/**
 * Cuts `s` to `max` characters for a TTY table cell, marking the cut with `mark`
 * (e.g. `[+]`); returns whether it was cut so the caller can print the footnote.
 */
export function truncateCell(s: string, max: number, mark: string): { text: string; cut: boolean } {
  if (s.length <= max) return { text: s, cut: false };
  return { text: `${s.slice(0, Math.max(0, max - mark.length - 1))} ${mark}`, cut: true };
}
