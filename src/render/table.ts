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

/** A cell's style; the padding after it stays plain. */
type CellStyle = (column: number, cell: string) => string;

function padLine(cells: readonly string[], widths: number[], style?: CellStyle): string {
  const last = cells.length - 1;
  const styled = (c: string, i: number) => (style && c !== '' ? style(i, c) : c);
  return cells
    .map((c, i) => (i === last ? styled(c, i) : styled(c, i) + ' '.repeat(Math.max(0, widths[i] - c.length))))
    .join('  ')
    .trimEnd();
}

/** How a table is drawn on a TTY. */
export interface TableOptions {
  /**
   * Fit the terminal: columns are dropped, lowest `priority` first, until the table fits
   * with `fitColumn` at least MIN_FIT_WIDTH wide; that column then wraps onto more lines.
   * Columns not in `priority` are never dropped.
   */
  fitColumn?: number;
  /** Column indexes, most important first. */
  priority?: readonly number[];
  /** A column of request states, coloured by state. */
  stateColumn?: number;
}

/** The narrowest a fitted column gets before columns are dropped. */
const MIN_FIT_WIDTH = 12;
const GAP = '  ';

/**
 * A borderless table sized to `columns`: which columns stay, and the width of each. Pure,
 * so the fitting can be tested without a terminal.
 */
export function fitColumns(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  columns: number,
  opts: TableOptions,
): { keep: number[]; widths: number[] } {
  const natural = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const keep = headers.map((_, i) => i);
  const fit = opts.fitColumn;
  const total = () => keep.reduce((sum, i) => sum + natural[i], 0) + GAP.length * (keep.length - 1);
  const need = () =>
    fit === undefined ? total() : total() - natural[fit] + Math.min(natural[fit], MIN_FIT_WIDTH);
  const droppable = [...(opts.priority ?? [])].reverse().filter((i) => i !== fit);
  while (need() > columns && droppable.length > 0) keep.splice(keep.indexOf(droppable.shift()!), 1);
  const widths = [...natural];
  if (fit !== undefined && total() > columns) {
    widths[fit] = Math.max(MIN_FIT_WIDTH, natural[fit] - (total() - columns));
  }
  return { keep, widths };
}

/** Cuts `s` into pieces of at most `width` characters. */
function wrap(s: string, width: number): string[] {
  if (s.length <= width) return [s];
  const out: string[] = [];
  for (let i = 0; i < s.length; i += width) out.push(s.slice(i, i + width));
  return out;
}

/** The lines of a fitted, borderless table: a bold header, then each row, wrapped where needed. */
function fittedLines(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  columns: number,
  opts: TableOptions,
  theme: { bold(s: string): string; state(s: string): string },
): string[] {
  const { keep, widths } = fitColumns(headers, rows, columns, opts);
  const line = (cells: readonly string[], style: (i: number, c: string) => string) =>
    keep
      .map((i, k) => style(i, k === keep.length - 1 ? (cells[i] ?? '') : (cells[i] ?? '').padEnd(widths[i])))
      .join(GAP)
      .trimEnd();
  const out = [line(headers, (_, c) => theme.bold(c))];
  for (const row of rows) {
    const pieces = keep.map((i) => wrap(row[i] ?? '', widths[i]));
    const height = Math.max(...pieces.map((p) => p.length));
    for (let n = 0; n < height; n++) {
      const cells: string[] = [];
      keep.forEach((i, k) => {
        cells[i] = pieces[k][n] ?? '';
      });
      out.push(line(cells, (i, c) => (i === opts.stateColumn && n === 0 ? theme.state(c) : c)));
    }
  }
  return out;
}

export function tableWriter(io: IO, headers: readonly string[], opts: TableOptions = {}): TableWriter {
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
        if (opts.fitColumn !== undefined) {
          io.stdout.write(`${fittedLines(headers, kept, io.columns, opts, theme).join('\n')}\n`);
          return;
        }
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
  // Off a TTY colour is on only when asked for (FORCE_COLOR); chalk loads only then.
  let styles: Promise<{ header: CellStyle; row: CellStyle } | undefined> | undefined;
  const loadStyles = () => {
    styles ??= io.color
      ? import('./theme.js').then(({ themeFor }) => {
          const theme = themeFor(io);
          return {
            header: (_: number, c: string) => theme.bold(c),
            row: (i: number, c: string) => (i === opts.stateColumn ? theme.state(c) : c),
          };
        })
      : Promise.resolve(undefined);
    return styles;
  };
  const header = async () => `${padLine(headers, widths, (await loadStyles())?.header)}\n`;
  return {
    get count() {
      return count;
    },
    async add(rows) {
      const cells = rows.map((r) => r.map(plainCell));
      for (const r of cells) {
        for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
      }
      const style = (await loadStyles())?.row;
      let out = '';
      if (!headerWritten) {
        out += await header();
        headerWritten = true;
      }
      for (const r of cells) out += `${padLine(r, widths, style)}\n`;
      count += rows.length;
      await writeWithBackpressure(io.stdout, out);
    },
    async end() {
      if (!headerWritten) io.stdout.write(await header());
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
