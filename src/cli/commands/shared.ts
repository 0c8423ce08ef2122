import type { Connection } from '../../client/index.js';
import { UsageError } from '../../model/errors.js';
import { splitList } from '../../model/kv.js';
import { MAX_REASON_BYTES } from '../../model/limits.js';
import type { AccessRequest } from '../../model/request.js';
import { parseRequestId } from '../../model/request-id.js';
import { printStructured } from '../../render/format.js';
import type { Context } from '../context.js';

/** Per-call options for unary RPCs: the injected cancellation signal. */
export function callOpts(ctx: Context): { signal?: AbortSignal } {
  return ctx.io.signal ? { signal: ctx.io.signal } : {};
}

/** A string flag value, or undefined when absent. */
export function str(flags: Record<string, unknown>, key: string): string | undefined {
  const v = flags[key];
  return typeof v === 'string' ? v : undefined;
}

/** A review or resolve `--reason`, at most Teleport's maxAccessRequestReasonSize bytes. */
export function reasonFlag(flags: Record<string, unknown>): string {
  const reason = str(flags, 'reason') ?? '';
  if (Buffer.byteLength(reason, 'utf8') > MAX_REASON_BYTES) {
    throw new UsageError(`--reason is too long, max ${MAX_REASON_BYTES} bytes`);
  }
  return reason;
}

/** Roles / reviewers lists: comma or whitespace separated, repeats allowed. */
export function list(flags: Record<string, unknown>, key: string): string[] {
  const v = flags[key];
  const items = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  return items.flatMap((x) => splitList(String(x)));
}

/**
 * Request IDs from positional arguments; commas separate IDs too, as tctl accepts. Every ID
 * must be a UUID (exit 2 otherwise); `allow` names extra accepted words (drop's `*`).
 */
export function requestIds(args: unknown[], allow: readonly string[] = []): string[] {
  const raw = args.flat().filter((x): x is string => typeof x === 'string');
  const ids = raw.flatMap((x) => x.split(',')).map((x) => x.trim());
  return ids.map((id) => (allow.includes(id) ? id : parseRequestId(id)));
}

/** Commander's repeatable-option collector. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Reads one request by ID; NotFound (exit 6) when it does not exist or is not visible. */
export async function fetchRequest(ctx: Context, conn: Connection, id: string): Promise<AccessRequest> {
  const { getRequest } = await import('../../client/requests.js');
  return getRequest(conn, id, callOpts(ctx));
}

/** Prints `value` as JSON/YAML, or calls `text` for the text format. */
export async function emit(ctx: Context, value: unknown, text: () => void | Promise<void>): Promise<void> {
  if (ctx.format === 'text') await text();
  else await printStructured(ctx.io, ctx.format, value);
}

/** Writes a line to stderr. */
export function note(ctx: Context, line: string): void {
  ctx.io.stderr.write(`${line}\n`);
}
