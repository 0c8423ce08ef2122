import { escapeControls } from './escape.js';
import { type IO, writeWithBackpressure } from './io.js';
import { breakWord, longestWord, wrapWords } from './wrap.js';

/**
 * Writes rows as they arrive. On a TTY the rows are kept and laid out at `end()` to fit the
 * terminal's width (`tableLines`): a borderless table, or one `key: value` block per row when
 * the table's required columns do not fit. Otherwise each batch is written at once as plain
 * lines (columns padded and separated by two spaces, no truncation), so `grep`/`awk` work and
 * memory is bounded by a batch; widths only grow, so later batches stay aligned with earlier
 * ones unless a wider value arrives.
 */
export interface TableWriter {
  /** Resolves once the batch is written and, off a TTY, the reader has caught up. */
  add(rows: readonly (readonly string[])[]): Promise<void>;
  /** Writes what is kept; resolves to the columns shown (all of them off a TTY). */
  end(): Promise<readonly number[]>;
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

/** How a table is laid out on a TTY (`tableLines`). */
export interface TableOptions {
  /**
   * Column indexes, most important first; columns not listed follow in their order. Each is
   * kept if it fits beside the columns already kept, else left out, so the least important
   * go first as the terminal narrows. A column is never cut.
   */
  priority?: readonly number[];
  /**
   * How many columns of `priority` the table needs (default 1). When they do not fit, each
   * row is printed as a block of `Header: value` lines instead.
   */
  required?: number;
  /** The column that wraps between words (a reason, a description) to use the room left. */
  wrap?: number;
  /** Columns holding comma-separated lists (roles, resources): one item a line. */
  lists?: readonly number[];
  /** A column of request states, coloured by state. */
  stateColumn?: number;
}

/** The narrowest the wrapping column gets; below that it is left out like any other. */
export const MIN_WRAP_WIDTH = 20;
const GAP = '  ';

/**
 * How rows fit a width: a table of the `keep` columns (in header order) sized `widths`, or
 * blocks of every non-empty column, most important first.
 */
export type TableLayout =
  | { mode: 'table'; keep: number[]; widths: number[] }
  | { mode: 'blocks'; keep: number[] };

/** The lines of one cell at `width`: a list one item a line, the wrap column between words. */
function cellLines(value: string, column: number, width: number, opts: TableOptions): string[] {
  if (opts.lists?.includes(column)) {
    const items = value.split(',').filter((x) => x !== '');
    return items.length === 0 ? [''] : items.flatMap((x) => (x.length > width ? breakWord(x, width) : [x]));
  }
  if (column === opts.wrap) return wrapWords(value, width);
  return [value];
}

function naturalWidth(value: string, column: number, opts: TableOptions): number {
  if (opts.lists?.includes(column)) return Math.max(0, ...value.split(',').map((x) => x.length));
  return value.length;
}

/**
 * Which columns of a table fit in `columns` characters, and how wide each is. Pure, so the
 * fitting is tested without a terminal. A column empty in every row is left out.
 */
export function layoutTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  columns: number,
  opts: TableOptions = {},
): TableLayout {
  const all = headers.map((_, i) => i);
  const present = rows.length === 0 ? all : all.filter((i) => rows.some((r) => (r[i] ?? '') !== ''));
  const natural = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => naturalWidth(r[i] ?? '', i, opts))),
  );
  const least = (i: number) =>
    i === opts.wrap ? Math.min(natural[i], Math.max(MIN_WRAP_WIDTH, headers[i].length)) : natural[i];
  const listed = (opts.priority ?? []).filter((i) => present.includes(i));
  const order = [...listed, ...present.filter((i) => !listed.includes(i))];
  const required = Math.min(opts.required ?? 1, order.length);
  const kept: number[] = [];
  let used = 0;
  for (const [n, i] of order.entries()) {
    const need = least(i) + (kept.length > 0 ? GAP.length : 0);
    if (used + need <= columns) {
      kept.push(i);
      used += need;
    } else if (n < required) {
      return { mode: 'blocks', keep: order };
    }
  }
  const keep = all.filter((i) => kept.includes(i));
  const widths = [...natural];
  if (opts.wrap !== undefined && kept.includes(opts.wrap)) {
    widths[opts.wrap] = Math.min(natural[opts.wrap], least(opts.wrap) + (columns - used));
  }
  return { mode: 'table', keep, widths };
}

/**
 * A table fitted to `columns` (see {@link layoutTable}): a bold header, then each row on as
 * many lines as its wrapped and listed cells need, or one block of `Header: value` lines per
 * row (blank-line separated) when the table does not fit. No line is wider than `columns`.
 */
export function tableLines(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  columns: number,
  opts: TableOptions,
  theme: { bold(s: string): string; state(s: string): string },
): string[] {
  const layout = layoutTable(headers, rows, columns, opts);
  if (layout.mode === 'blocks') {
    const out: string[] = [];
    for (const [n, row] of rows.entries()) {
      if (n > 0) out.push('');
      const pairs = layout.keep
        .filter((i) => (row[i] ?? '') !== '')
        .map((i): [string, KeyValue] => [
          headers[i],
          opts.lists?.includes(i) ? row[i].split(',').filter((x) => x !== '') : row[i],
        ]);
      out.push(...keyValueLines(pairs, columns));
    }
    return out;
  }
  const { keep, widths } = layout;
  const line = (cells: readonly string[], style: (i: number, c: string) => string) =>
    keep
      .map((i, k) => style(i, k === keep.length - 1 ? (cells[i] ?? '') : (cells[i] ?? '').padEnd(widths[i])))
      .join(GAP)
      .trimEnd();
  const out = [line(headers, (_, c) => theme.bold(c))];
  for (const row of rows) {
    const pieces = keep.map((i) => cellLines(row[i] ?? '', i, widths[i], opts));
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
        // Nothing to lay out: the caller says so on stderr, as gh does.
        if (kept.length === 0) return [];
        const { themeFor } = await import('./theme.js');
        io.stdout.write(`${tableLines(headers, kept, io.columns, opts, themeFor(io)).join('\n')}\n`);
        const layout = layoutTable(headers, kept, io.columns, opts);
        return layout.keep;
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
      return headers.map((_, i) => i);
    },
  };
}

/** A whole table at once. */
export async function printTable(
  io: IO,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  opts: TableOptions = {},
): Promise<readonly number[]> {
  const w = tableWriter(io, headers, opts);
  await w.add(rows);
  return w.end();
}

/** A `Key: value` value: one line, or several (a list) printed one under the other. */
export type KeyValue = string | readonly string[];

/**
 * A headless `Key: value` block, as `tctl requests get` and `tsh request show` print. A list
 * value is printed one item a line under the value column. Every value line is escaped, so a
 * value can never add a line of its own.
 *
 * With a `width` (a terminal's), no line is wider: values wrap between words under their
 * column; keys stay aligned only while the longest word still fits beside them, else each
 * value follows its own key; a value with a word too wide for that goes on the lines below
 * its key, indented two spaces. Without one, each value stays on its line(s) whole.
 */
export function keyValueLines(pairs: readonly (readonly [string, KeyValue])[], width?: number): string[] {
  const items = pairs.map(([k, v]) => [k, (typeof v === 'string' ? [v] : v).map(escapeControls)] as const);
  const keyWidth = Math.max(0, ...items.map(([k]) => k.length + 1));
  if (width === undefined) {
    return items.map(([k, lines]) =>
      `${`${k}:`.padEnd(keyWidth + 1)}${lines.join(`\n${' '.repeat(keyWidth + 1)}`)}`.trimEnd(),
    );
  }
  const longest = Math.max(0, ...items.flatMap(([, vs]) => vs.map(longestWord)));
  const aligned = keyWidth + 1 + longest <= width;
  const out: string[] = [];
  for (const [k, values] of items) {
    const col = aligned ? keyWidth + 1 : k.length + 2;
    if (values.every((v) => longestWord(v) <= width - col)) {
      const lines = values.flatMap((v) => wrapWords(v, width - col));
      lines.forEach((l, n) => {
        out.push(`${n === 0 ? `${k}:`.padEnd(col) : ' '.repeat(col)}${l}`.trimEnd());
      });
    } else {
      out.push(`${k}:`);
      for (const v of values) out.push(...wrapWords(v, width - 2).map((l) => `  ${l}`));
    }
  }
  return out;
}

/** {@link keyValueLines} as one string, without a final newline. */
export function formatKeyValues(pairs: readonly (readonly [string, KeyValue])[], width?: number): string {
  return keyValueLines(pairs, width).join('\n');
}
