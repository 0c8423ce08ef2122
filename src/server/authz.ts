/**
 * Who is calling: the Teleport identity in the client certificate that the TLS layer
 * already verified against the user CA. Nothing the client sends in a message is trusted
 * for this.
 */
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { parseIdentityDer } from '../identity/certificate.js';
import type { TeleportIdentity } from '../identity/types.js';
import { type Caller, type Policy, ServerError, type User } from './types.js';

const UNAUTHENTICATED = 16;

/**
 * Identities of recently seen certificates. A client sends the same certificate with
 * every call, and decoding the subject's ASN.1 dominated the cost of small calls.
 */
const parsed = new Map<string, Caller>();
const PARSED_CACHE_SIZE = 1024;

/** The Caller for a parsed certificate identity. */
export function callerFromIdentity(id: TeleportIdentity): Caller {
  return {
    user: id.username,
    roles: [...id.roles],
    traits: id.traits,
    activeRequests: [...id.activeRequests],
    allowedResourceIds: [...id.allowedResourceIds],
    expires: id.expires,
  };
}

/**
 * The caller of a gRPC call, from its client certificate. Unauthenticated (16) when there
 * is no certificate, it carries no Teleport identity, or it has expired at `now`.
 */
export function callerOf(call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>, now: Date): Caller {
  const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
  if (!raw || raw.length === 0) throw new ServerError(UNAUTHENTICATED, 'client certificate required');
  const key = raw.toString('base64');
  let caller = parsed.get(key);
  if (!caller) {
    let id: TeleportIdentity;
    try {
      id = parseIdentityDer(raw);
    } catch (err) {
      throw new ServerError(UNAUTHENTICATED, `client certificate: ${(err as Error).message}`);
    }
    caller = Object.freeze(callerFromIdentity(id));
    if (parsed.size >= PARSED_CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, caller);
  }
  if (caller.expires.getTime() <= now.getTime()) {
    throw new ServerError(
      UNAUTHENTICATED,
      `client certificate for "${caller.user}" expired at ${caller.expires.toISOString()}`,
    );
  }
  return caller;
}

/**
 * A Caller standing for a stored user (an admin reviewing on someone's behalf): the
 * user's static roles and traits, no assumed requests.
 */
export function callerForUser(user: User, expires: Date): Caller {
  return {
    user: user.name,
    roles: [...user.roles],
    traits: user.traits,
    activeRequests: [],
    allowedResourceIds: [],
    expires,
  };
}

/** PermissionDenied unless the caller's roles allow `verb` on access_request. */
export function requireRule(
  policy: Policy,
  caller: Caller,
  verb: 'list' | 'read' | 'create' | 'update' | 'delete',
): void {
  if (!policy.allows(caller, verb)) {
    throw new ServerError(7, `access denied to perform action "${verb}" on "access_request"`);
  }
}
