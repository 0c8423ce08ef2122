/**
 * Certificates and the caller's identity: GenerateUserCerts (renewal, requests assumed,
 * impersonation), GetCurrentUser, GetCurrentUserRoles, GetDomainName, GetClusterCACert.
 */

import { createPublicKey } from 'node:crypto';
import {
  type Certs,
  type UserCertsRequest,
  UserCertsRequest_CertUsage,
} from '../../gen/teleport/legacy/client/proto/authservice.js';
import type { AccessRequestV3 } from '../../gen/teleport/legacy/types/types.js';
import { BARE_ACCESS_DENIED, CLIENT_CREDENTIALS_EXPIRED } from '../../model/server-messages.js';
import { authorizeAdminAction } from '../authz.js';
import {
  issueUserSshCert,
  issueUserTlsCert,
  sshCaAuthorizedKeys,
  tlsCaPems,
  type UserCertSpec,
} from '../certs.js';
import { serverStream, unary, writeWithBackpressure } from '../grpc/handlers.js';
import { metadata, setTime } from '../grpc/shape.js';
import type { AuthServiceServer } from '../grpc-definitions.js';
import { lockInForceError, lockTargetsOf } from '../locks.js';
import { validatedRequest } from '../requests/assume.js';
import type { ServiceDeps } from '../service.js';
import { expandOrSkip } from '../traits.js';
import { accessDenied, badParameter, type Caller, notFound, type Policy } from '../types.js';
import { userToProto } from '../users-service.js';

/** The SSH logins of a set of roles, with trait templates expanded and denied logins removed. */
export function loginsFor(
  policy: Policy,
  roles: readonly string[],
  traits: Record<string, string[]>,
): string[] {
  const allow = new Set<string>();
  const deny = new Set<string>();
  for (const name of roles) {
    const role = policy.role(name);
    if (!role) continue;
    for (const l of role.allow.logins ?? []) for (const v of expandOrSkip(l, traits)) allow.add(v);
    for (const l of role.deny.logins ?? []) for (const v of expandOrSkip(l, traits)) deny.add(v);
  }
  return [...allow].filter((l) => !deny.has(l)).sort();
}

function publicKeyPem(bytes: Buffer): string {
  const pem = bytes.toString('utf8');
  try {
    return createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    throw badParameter('TLSPublicKey is not a PEM public key (PKCS#1 or PKIX)');
  }
}

/** lib/defaults: MaxRenewableCertTTL, the longest a renewable or role-impersonated certificate lives. */
const MAX_RENEWABLE_CERT_TTL_MS = 24 * 3600 * 1000;

/** lib/teleport constants: the TLS usage a CertUsage restricts a certificate to (OU). */
const USAGE: Partial<Record<UserCertsRequest_CertUsage, string>> = {
  [UserCertsRequest_CertUsage.Database]: 'usage:db',
  [UserCertsRequest_CertUsage.App]: 'usage:apps',
  [UserCertsRequest_CertUsage.Kubernetes]: 'usage:kube',
  [UserCertsRequest_CertUsage.WindowsDesktop]: 'usage:windows_desktop',
};

/** generateUserCerts' usage switch: All and SSH leave TLS unrestricted; anything unknown is refused. */
function certUsage(usage: UserCertsRequest_CertUsage): string[] {
  if (usage === UserCertsRequest_CertUsage.All || usage === UserCertsRequest_CertUsage.SSH) return [];
  const restricted = USAGE[usage];
  if (!restricted)
    throw badParameter(
      `unsupported cert usage ${JSON.stringify(UserCertsRequest_CertUsage[usage] ?? String(usage))}`,
    );
  return [restricted];
}

/** Go's %q of a []string: `["a" "b"]`. */
function goQuoteList(items: readonly string[]): string {
  return `[${items.map((i) => JSON.stringify(i)).join(' ')}]`;
}

/**
 * lib/auth/auth_with_roles.go, desiredAccessInfoForUser: the requests of a renewal, those of
 * the certificate first, then those asked for, without repeats and without those dropped;
 * a drop of exactly `*` leaves none.
 */
function desiredRequests(caller: Caller, req: UserCertsRequest, included: readonly string[]): string[] {
  const drop = req.dropAccessRequests;
  if (drop.length === 1 && drop[0] === '*') return [];
  return [...new Set([...caller.activeRequests, ...included])].filter((id) => !drop.includes(id));
}

/** GenerateUserCerts, GetCurrentUser(Roles), GetDomainName, GetClusterCACert. */
export function certHandlers(deps: ServiceDeps) {
  const { policy, store, locks, certs } = deps;
  const clusterName = deps.certs.clusterName;

  const generateUserCerts = unary(deps, async (req: UserCertsRequest, caller): Promise<Certs> => {
    const now = deps.now();
    // lib/auth/auth_with_roles.go, generateUserCerts, in Teleport's order. The official client
    // always names the user; an empty name is another user there, and so it is here.
    const target = req.username;
    const self = target === caller.user;
    // isRoleImpersonation: RoleRequests ask for a certificate with only those roles.
    const roleImpersonation = req.useRoleRequests || req.roleRequests.length > 0;
    if (!self && !policy.canImpersonateSomeone(caller)) {
      throw accessDenied('access denied: impersonation is not allowed');
    }
    if (caller.disallowReissue) {
      throw accessDenied('access denied: identity is not allowed to reissue certificates');
    }
    // Recursive impersonation: an impersonated identity may renew itself (drop requests),
    // nothing more.
    if (caller.impersonator) {
      if (req.accessRequests.length > 0) {
        throw accessDenied('access denied: impersonated user can not request new roles');
      }
      if (roleImpersonation)
        throw accessDenied('access denied: impersonated roles can not request other roles');
      if (!self) throw accessDenied('access denied: impersonated user can not impersonate anyone else');
    }
    const targetUser = policy.user(target);
    if (!targetUser) throw accessDenied(BARE_ACCESS_DENIED);
    const wanted = setTime(req.expires);
    // A renewal must say when it ends, and not in the past (ErrClientCredentialsHaveExpired).
    if (self && (!wanted || wanted.getTime() < now.getTime())) throw accessDenied(CLIENT_CREDENTIALS_EXPIRED);
    if (!self) authorizeAdminAction(policy, caller);
    // The caller's assumed requests go into the new certificate too, checked again.
    const included = [...req.accessRequests, ...caller.activeRequests];
    if (!self && included.length > 0) {
      throw accessDenied(
        `user "${caller.user}" requested cert for "${target}" and included access requests, this is not supported.`,
      );
    }

    // desiredAccessInfo: another user's roles, the requested roles, or the caller's with its
    // requests (those kept, those added), each validated.
    let assumed: AccessRequestV3[] = [];
    let roleRequests: string[] | undefined;
    if (!self) {
      if (roleImpersonation) {
        throw accessDenied(
          `User ${caller.user} tried to issue a cert for ${target} and added role requests. This is not supported.`,
        );
      }
    } else if (roleImpersonation) {
      // desiredAccessInfoForRoleRequest
      if (included.length > 0) {
        throw accessDenied(
          `User ${caller.user} tried to issue a cert with both role and access requests. This is not supported.`,
        );
      }
      if (req.roleRequests.length === 0) throw badParameter('at least one role request is required');
      roleRequests = req.roleRequests;
    } else {
      assumed = desiredRequests(caller, req, included).map((id) =>
        validatedRequest(store.get(id), id, target, now),
      );
    }

    const grant = policy.certificateGrant(target, assumed, now, roleRequests);
    if (!self && !policy.canImpersonate(caller, target)) {
      throw accessDenied(
        `user "${caller.user}" has requested to generate certs for ${goQuoteList(grant.roles)}.`,
      );
    }
    // CheckImpersonateRoles checks the caller's own roles against the requested ones.
    if (roleRequests && !policy.canImpersonateRoles(caller, roleRequests)) {
      throw accessDenied(
        `user "${caller.user}" has requested role impersonation for ${goQuoteList(grant.roles)}`,
      );
    }
    const usage = certUsage(req.usage);
    // lib/auth/auth.go, generateUserCert: no certificate is issued whose user, roles or
    // active requests a lock in force targets.
    const locked = locks.inForce(
      now,
      lockTargetsOf({
        user: target,
        roles: grant.roles,
        activeRequests: assumed.map((r) => r.metadata!.name),
      }),
    );
    if (locked) throw lockInForceError(locked);
    // A role-impersonated certificate may outlive the session, up to MaxRenewableCertTTL.
    const ceiling = roleRequests ? now.getTime() + MAX_RENEWABLE_CERT_TTL_MS : caller.expires.getTime();
    let notAfter = Math.min(grant.maxExpires.getTime(), ceiling);
    if (wanted && wanted.getTime() > now.getTime()) notAfter = Math.min(notAfter, wanted.getTime());
    if (notAfter <= now.getTime()) throw badParameter('the requested certificate would already be expired');

    const sshKey = req.sshPublicKey.length > 0 ? req.sshPublicKey : req.publicKey;
    if (req.tlsPublicKey.length === 0 && sshKey.length === 0) {
      throw badParameter('missing public key: set TLSPublicKey and/or SSHPublicKey');
    }
    const spec: UserCertSpec = {
      identity: {
        username: target,
        roles: grant.roles,
        traits: grant.traits,
        activeRequests: assumed.map((r) => r.metadata!.name),
        allowedResourceIds: grant.allowedResourceIds,
        routeToCluster: req.routeToCluster || clusterName,
        // Another user's certificate names the caller; role impersonation names the caller too
        // and may not be reissued; a renewal keeps the impersonator, so dropping a request
        // cannot launder it away.
        impersonator: !self || roleRequests ? caller.user : caller.impersonator,
        ...(roleRequests ? { disallowReissue: true } : {}),
        ...(usage.length > 0 ? { usage } : {}),
      },
      principals: loginsFor(policy, grant.roles, grant.traits),
      notAfter: new Date(notAfter),
      now,
    };
    const tls =
      req.tlsPublicKey.length > 0 ? await issueUserTlsCert(certs, spec, publicKeyPem(req.tlsPublicKey)) : '';
    let ssh = '';
    if (sshKey.length > 0) {
      try {
        ssh = issueUserSshCert(certs, spec, sshKey.toString('utf8'));
      } catch (err) {
        throw badParameter(`SSHPublicKey is not an authorized_keys public key: ${(err as Error).message}`);
      }
    }
    deps.log(
      `issued certificates for ${target}${self ? '' : ` (impersonated by ${caller.user})`} until ${spec.notAfter.toISOString()}` +
        (assumed.length > 0 ? ` with requests ${spec.identity.activeRequests.join(',')}` : ''),
    );
    return {
      ssh: Buffer.from(ssh ? `${ssh}\n` : '', 'utf8'),
      tls: Buffer.from(tls, 'utf8'),
      tlsCaCerts: tlsCaPems(certs).map((p) => Buffer.from(p, 'utf8')),
      sshCaCerts: sshCaAuthorizedKeys(certs).map((l) => Buffer.from(`${l}\n`, 'utf8')),
    };
  });

  const getCurrentUser: AuthServiceServer['getCurrentUser'] = unary(deps, (_req, caller) => {
    const user = policy.user(caller.user);
    if (!user) throw notFound(`user "${caller.user}" not found`);
    return userToProto(user);
  });

  const getCurrentUserRoles: AuthServiceServer['getCurrentUserRoles'] = serverStream(
    deps,
    async (_req, caller, call) => {
      for (const name of caller.roles) {
        if (!policy.role(name)) continue;
        await writeWithBackpressure(call, {
          kind: 'role',
          subKind: '',
          version: 'v7',
          metadata: metadata(name),
        });
      }
    },
  );

  const getDomainName: AuthServiceServer['getDomainName'] = unary(deps, () => ({ domainName: clusterName }));

  const getClusterCACert: AuthServiceServer['getClusterCACert'] = unary(deps, () => ({
    tlsCa: Buffer.from(certs.hostCa.certPem, 'utf8'),
  }));

  // lib/auth/auth_with_roles.go, ServerWithRoles.GetLock/GetLocks/UpsertLock/DeleteLock:
  // `action` on kind `lock` with every verb listed (read; list+read; create+update; delete).
  return {
    generateUserCerts,
    getCurrentUser,
    getCurrentUserRoles,
    getDomainName,
    getClusterCACert,
  } satisfies Partial<AuthServiceServer>;
}
