import { UsageError } from '../model/errors.js';
import { drained, type IO } from './io.js';

export const FORMATS = ['text', 'json', 'yaml'] as const;
export type Format = (typeof FORMATS)[number];

/** Validates a --format / ACCESS_FORMAT value. */
export function parseFormat(value: string, source = '--format'): Format {
  if ((FORMATS as readonly string[]).includes(value)) return value as Format;
  throw new UsageError(`unsupported format ${JSON.stringify(value)} for ${source}: use text, json or yaml`);
}

/** One JSON document (two-space indent) and a newline; never colour, never banners. */
export function printJson(io: IO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The same structure as YAML; the yaml package loads only when YAML is asked for. */
export async function printYaml(io: IO, value: unknown): Promise<void> {
  const { toYaml } = await import('./yaml.js');
  io.stdout.write(toYaml(value));
}

/** Prints structured data as JSON or YAML; text output is each command's own business. */
export async function printStructured(
  io: IO,
  format: Exclude<Format, 'text'>,
  value: unknown,
): Promise<void> {
  if (format === 'json') printJson(io, value);
  else await printYaml(io, value);
}

/**
 * Writes a list as it is produced, so memory is bounded by a page: JSON is one array
 * written `[`, items, `]`; YAML is a sequence written item by item. Each `add` (a page) is
 * one synchronous write, so a page can be written in the callback that read it; `drain`
 * then waits for the reader when that write filled the stream's buffer. Call `end()` once.
 */
export interface ListWriter<T> {
  add(items: readonly T[]): void;
  /** Resolves once stdout can take more: at once unless the last `add` filled its buffer. */
  drain(): Promise<void>;
  end(): void;
}

/** A {@link ListWriter} on stdout; the yaml package loads here, before the first page, when YAML is asked for. */
export async function structuredListWriter<T>(
  io: IO,
  format: Exclude<Format, 'text'>,
): Promise<ListWriter<T>> {
  let count = 0;
  let full = false;
  const write = (chunk: string) => {
    full = io.stdout.write(chunk) === false;
  };
  const drain = async () => {
    if (!full) return;
    full = false;
    await drained(io.stdout);
  };
  if (format === 'json') {
    return {
      add(items) {
        if (items.length === 0) return;
        // `[\n  item,\n  item\n]`: the items are already indented as array elements, so
        // the page goes out without its brackets and the pages join into one array.
        const page = JSON.stringify(items, null, 2);
        const first = count === 0;
        count += items.length;
        write(`${first ? '[\n' : ',\n'}${page.slice(2, -2)}`);
      },
      drain,
      end() {
        io.stdout.write(count === 0 ? '[]\n' : '\n]\n');
      },
    };
  }
  const { toYaml } = await import('./yaml.js');
  return {
    add(items) {
      if (items.length === 0) return;
      let page = '';
      for (const item of items) page += toYaml([item]);
      count += items.length;
      write(page);
    },
    drain,
    end() {
      if (count === 0) io.stdout.write('[]\n');
    },
  };
}
