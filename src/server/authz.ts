/**
 * Who is calling: the Teleport identity in the client certificate that the TLS layer
 * already verified against the user CA. Nothing the client sends in a message is trusted
 * for this.
 */

import type { ServerUnaryCall } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { parseIdentityDer } from '../identity/certificate.js';
import type { TeleportIdentity } from '../identity/types.js';
import { ADMIN_MFA_REQUIRED } from '../model/server-messages.js';
import { ruleDeniedMessage } from './rbac.js';
import { accessDenied, type Caller, notFound, type Policy, ServerError, type Verb } from './types.js';

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
    ...(id.impersonator ? { impersonator: id.impersonator } : {}),
    ...(id.disallowReissue ? { disallowReissue: true } : {}),
  };
}

/**
 * The caller of a gRPC call, from its client certificate. Unauthenticated (16) when there
 * is no certificate, it carries no Teleport identity, or it has expired at `now`.
 */
export function callerOf(call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>, now: Date): Caller {
  const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
  if (!raw || raw.length === 0) throw new ServerError(status.UNAUTHENTICATED, 'client certificate required');
  const key = raw.toString('base64');
  let caller = parsed.get(key);
  if (!caller) {
    let id: TeleportIdentity;
    try {
      id = parseIdentityDer(raw);
    } catch (err) {
      throw new ServerError(status.UNAUTHENTICATED, `client certificate: ${(err as Error).message}`);
    }
    caller = Object.freeze(callerFromIdentity(id));
    if (parsed.size >= PARSED_CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, caller);
  }
  if (caller.expires.getTime() <= now.getTime()) {
    throw new ServerError(
      status.UNAUTHENTICATED,
      `client certificate for "${caller.user}" expired at ${caller.expires.toISOString()}`,
    );
  }
  return caller;
}

/**
 * Refuses a certificate whose user no longer exists, as Teleport's authorizer does:
 * `lib/authz/permissions.go: ContextForLocalUser` (via `authorizeLocalUser`) first fetches
 * the user with `accessPoint.GetUser` ("User has to be fetched to check if it's a blocked
 * username") and returns its error, so a deleted user's still-valid certificate gets
 * NotFound from the local users service (`user %q is not found`) on every call.
 */
export function authorizeLocalUser(policy: Pick<Policy, 'user'>, caller: Caller): Caller {
  if (!policy.user(caller.user)) throw notFound(`user "${caller.user}" is not found`);
  return caller;
}

/**
 * lib/auth/auth_with_roles.go, ServerWithRoles.action: PermissionDenied unless the caller's
 * roles allow `verb` on `resource` (access_request unless named).
 */
export function requireRule(policy: Policy, caller: Caller, verb: Verb, resource = 'access_request'): void {
  if (!policy.allows(caller, verb, resource)) throw accessDenied(ruleDeniedMessage(resource, verb));
}

/**
 * lib/auth/auth_with_roles.go, ServerWithRoles.currentUserAction: acting on `user` needs no
 * rule when it is the caller; otherwise `create` on `user` is required.
 */
export function isCurrentUserAction(policy: Policy, caller: Caller, user: string): boolean {
  return (user !== '' && user === caller.user) || policy.allows(caller, 'create', 'user');
}

/**
 * lib/authz/permissions.go, Context.AuthorizeAdminAction: when the cluster enforces admin MFA
 * and the caller is not exempt, the call needs an MFA response in its metadata. This server
 * cannot run an MFA ceremony, so such a call is always refused, as Teleport refuses one
 * without the response.
 */
export function authorizeAdminAction(policy: Policy, caller: Caller): void {
  if (policy.adminActionNeedsMfa(caller)) throw accessDenied(ADMIN_MFA_REQUIRED);
}
