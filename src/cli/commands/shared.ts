import type { Connection } from '../../client/index.js';
import { AccessError, UsageError } from '../../model/errors.js';
import { splitList } from '../../model/kv.js';
import { MAX_REASON_BYTES } from '../../model/limits.js';
import type { AccessRequest } from '../../model/request.js';
import { isRequestIdPrefix, matchRequestId, parseRequestId } from '../../model/request-id.js';
import { printStructured } from '../../render/format.js';
import { wrapCommand, wrapWords } from '../../render/wrap.js';
import type { Context } from '../context.js';

/** Per-call options for unary RPCs: the injected cancellation signal. */
export function callOpts(ctx: Context): { signal?: AbortSignal } {
  return ctx.io.signal ? { signal: ctx.io.signal } : {};
}

/** A review or resolve `--reason`, at most Teleport's maxAccessRequestReasonSize bytes. */
export function reasonFlag(given: string | undefined): string {
  const reason = given ?? '';
  if (Buffer.byteLength(reason, 'utf8') > MAX_REASON_BYTES) {
    throw new UsageError(`--reason is too long, max ${MAX_REASON_BYTES} bytes`);
  }
  return reason;
}

/** Roles / reviewers lists: comma or whitespace separated, repeats allowed. */
export function list(given: string | readonly string[] | undefined): string[] {
  const items = typeof given === 'string' ? [given] : (given ?? []);
  return items.flatMap((x) => splitList(x));
}

/**
 * Request IDs from positional arguments; commas separate IDs too, as tctl accepts. Every ID
 * must be a UUID or the start of one, at least 8 characters (exit 2 otherwise), which `run`
 * resolves with {@link resolveRequestIds}; `allow` names extra accepted words (drop's `*`).
 */
export function requestIds(args: readonly string[], allow: readonly string[] = []): string[] {
  const ids = args.flatMap((x) => x.split(',')).map((x) => x.trim());
  return ids.map((id) => (allow.includes(id) ? id : parseRequestId(id, true)));
}

/** The refusal of a prefix that starts several request IDs, naming them. */
export function ambiguousPrefix(id: string, matches: readonly string[]): UsageError {
  return new UsageError(
    `request ID prefix ${JSON.stringify(id)} is ambiguous: it matches ${matches.join(', ')}`,
    'give more characters of the ID',
  );
}

/**
 * The whole IDs of `ids`: a whole ID as given, the start of one (issue 23) as the one request
 * visible to the caller whose ID starts so. None is NotFound (exit 6); several are refused
 * (exit 2), naming them. The server's keyword search covers request IDs (api/types/
 * access_request.go: AccessRequestFilter.Match calls req.MatchSearch, whose fields include
 * the request's name), so only requests containing the prefix are listed.
 */
export async function resolveRequestIds(
  ctx: Context,
  conn: Connection,
  ids: readonly string[],
): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) {
    if (!isRequestIdPrefix(id)) {
      out.push(id);
      continue;
    }
    const candidates: string[] = [];
    const { requestPages } = await import('../../client/list.js');
    await requestPages(
      conn,
      { scope: 'all', search: [id.toLowerCase()], sort: 'created', descending: true },
      { pageSize: 100, call: callOpts(ctx) },
      {
        consume: (page) => {
          for (const r of page) candidates.push(r.id);
          return true;
        },
      },
    );
    const match = matchRequestId(id, candidates);
    if (match === undefined) {
      throw new AccessError('not-found', `no access request ID starts with ${JSON.stringify(id)}`);
    }
    if (Array.isArray(match)) throw ambiguousPrefix(id, match);
    out.push(match);
  }
  return out;
}

/**
 * The parser of a one-value option whose placeholder ends in `,...` (`<k=v,...>`): commander
 * takes one value there, but extra-typings reads the dots as variadic and would type it string[].
 */
export function oneValue(value: string): string {
  return value;
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

/**
 * Writes a line (or several) to stderr. On a terminal each is wrapped between words to its
 * width, and a `> command` line between arguments with ` \\` so it still pastes whole.
 */
export function note(ctx: Context, line: string): void {
  ctx.io.stderr.write(`${ctx.io.stderrIsTTY ? fitLines(line, ctx.io.columns) : line}\n`);
}

function fitLines(text: string, width: number): string {
  return text
    .split('\n')
    .flatMap((l) =>
      l.startsWith('> ') ? wrapCommand(l, width) : l.length <= width ? [l] : wrapWords(l, width),
    )
    .join('\n');
}
