import { UsageError } from './errors.js';

/**
 * An access request ID: a UUID in its canonical 8-4-4-4-12 hex form. Teleport names every
 * request so and refuses anything else on create (lib/services/access_request.go:
 * ValidateAccessRequest, `uuid.Parse(ar.GetName())`); on reads it simply finds nothing, so the
 * CLI checks the syntax itself to answer "invalid" (exit 2) rather than "not found" (exit 6).
 */
const REQUEST_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isRequestId(s: string): boolean {
  return REQUEST_ID.test(s);
}

/** Whether `s` is a UUID in canonical form (request IDs are; so is an Auth host's ID). */
export const isUuid = isRequestId;

/** The shortest start of a request ID that names it (issue 23), as `git` takes a short hash. */
export const MIN_ID_PREFIX = 8;
const UUID_SHAPE = 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';

/** Whether `s` is the start of a request ID, at least {@link MIN_ID_PREFIX} characters, not a whole one. */
export function isRequestIdPrefix(s: string): boolean {
  if (s.length < MIN_ID_PREFIX || s.length >= UUID_SHAPE.length) return false;
  return [...s].every((c, i) => (UUID_SHAPE[i] === '-' ? c === '-' : /[0-9a-fA-F]/.test(c)));
}

/**
 * The one of `candidates` that `id` names: itself, or the only one starting with it (a
 * prefix); undefined for none; the list when several start with it.
 */
export function matchRequestId(id: string, candidates: readonly string[]): string | string[] | undefined {
  if (!isRequestIdPrefix(id)) return candidates.includes(id) ? id : undefined;
  const found = candidates.filter((c) => c.toLowerCase().startsWith(id.toLowerCase()));
  return found.length === 1 ? found[0] : found.length === 0 ? undefined : found;
}

/**
 * Returns `s` when it is a request ID (or, with `prefix`, the start of one that the caller
 * looks up); a UsageError naming the value (escaped) otherwise.
 */
export function parseRequestId(s: string, prefix = false): string {
  if (s === '') throw new UsageError('empty request ID');
  if (!REQUEST_ID.test(s) && !(prefix && isRequestIdPrefix(s))) {
    throw new UsageError(
      `invalid request ID ${JSON.stringify(s)}: expected a UUID such as 0193c1e2-7b3a-7c4d-9e5f-0a1b2c3d4e5f` +
        (prefix ? ` or its first ${MIN_ID_PREFIX} or more characters` : ''),
      'list request IDs with `access request ls`',
    );
  }
  return s;
}
