import { UsageError } from '../model/errors.js';
import { type IO, writeWithBackpressure } from './io.js';

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
 * written `[`, items, `]`; YAML is a sequence written item by item. Each `add` (a page)
 * is one write. Call `end()` once.
 */
export interface ListWriter<T> {
  add(items: readonly T[]): Promise<void>;
  end(): Promise<void>;
}

export function structuredListWriter<T>(io: IO, format: Exclude<Format, 'text'>): ListWriter<T> {
  let count = 0;
  if (format === 'json') {
    return {
      async add(items) {
        if (items.length === 0) return;
        // `[\n  item,\n  item\n]`: the items are already indented as array elements, so
        // the page goes out without its brackets and the pages join into one array.
        const page = JSON.stringify(items, null, 2);
        const first = count === 0;
        count += items.length;
        await writeWithBackpressure(io.stdout, `${first ? '[\n' : ',\n'}${page.slice(2, -2)}`);
      },
      async end() {
        io.stdout.write(count === 0 ? '[]\n' : '\n]\n');
      },
    };
  }
  let yaml: typeof import('./yaml.js') | undefined;
  return {
    async add(items) {
      if (items.length === 0) return;
      yaml ??= await import('./yaml.js');
      let page = '';
      for (const item of items) page += yaml.toYaml([item]);
      count += items.length;
      await writeWithBackpressure(io.stdout, page);
    },
    async end() {
      if (count === 0) io.stdout.write('[]\n');
    },
  };
}
