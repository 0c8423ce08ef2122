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

/** Returns `s` when it is a request ID; a UsageError naming the value (escaped) otherwise. */
export function parseRequestId(s: string): string {
  if (s === '') throw new UsageError('empty request ID');
  if (!REQUEST_ID.test(s)) {
    throw new UsageError(
      `invalid request ID ${JSON.stringify(s)}: expected a UUID such as 0193c1e2-7b3a-7c4d-9e5f-0a1b2c3d4e5f`,
      'list request IDs with `access request ls`',
    );
  }
  return s;
}
