/**
 * Certificates and the caller's identity: GenerateUserCerts (renewal, requests assumed,
 * impersonation), GetCurrentUser, GetCurrentUserRoles, GetDomainName, GetClusterCACert.
 */

import { createPublicKey } from 'node:crypto';
import type { Certs, UserCertsRequest } from '../../gen/teleport/legacy/client/proto/authservice.js';
import type { AccessRequestV3 } from '../../gen/teleport/legacy/types/types.js';
import { BARE_ACCESS_DENIED } from '../../model/server-messages.js';
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
import { checkAssumable } from '../requests/assume.js';
import { toLabelValues } from '../requests/wire.js';
import type { ServiceDeps } from '../service.js';
import { expandOrSkip } from '../traits.js';
import { accessDenied, badParameter, notFound, type Policy, ServerError } from '../types.js';

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
    if (!self && !policy.canImpersonateSomeone(caller)) {
      throw accessDenied('access denied: impersonation is not allowed');
    }
    // Recursive impersonation: an impersonated identity may renew itself (drop requests),
    // nothing more.
    if (caller.impersonator) {
      if (req.accessRequests.length > 0) {
        throw accessDenied('access denied: impersonated user can not request new roles');
      }
      if (!self) throw accessDenied('access denied: impersonated user can not impersonate anyone else');
    }
    const targetUser = policy.user(target);
    if (!targetUser) throw accessDenied(BARE_ACCESS_DENIED);
    if (!self) {
      authorizeAdminAction(policy, caller);
      if (req.accessRequests.length > 0) {
        throw accessDenied(
          `user "${caller.user}" requested cert for "${target}" and included access requests, this is not supported.`,
        );
      }
      if (!policy.canImpersonate(caller, target)) {
        throw accessDenied(
          `user "${caller.user}" has requested to generate certs for [${targetUser.roles.map((r) => `"${r}"`).join(' ')}].`,
        );
      }
    }

    const dropAll = req.dropAccessRequests.includes('*');
    const drop = new Set(req.dropAccessRequests);
    const assumed: AccessRequestV3[] = [];
    const seen = new Set<string>();
    const usable = (id: string): AccessRequestV3 => {
      const r = store.get(id);
      if (!r) throw notFound(`access request "${id}" not found`);
      checkAssumable(r, target, now);
      return r;
    };
    // Requests already in the certificate stay unless dropped; ones no longer usable
    // (expired, deleted, denied after approval) fall away silently.
    if (self) {
      for (const id of caller.activeRequests) {
        if (dropAll || drop.has(id) || seen.has(id)) continue;
        try {
          assumed.push(usable(id));
          seen.add(id);
        } catch (err) {
          if (!(err instanceof ServerError)) throw err;
        }
      }
    }
    for (const id of req.accessRequests) {
      if (seen.has(id)) continue;
      assumed.push(usable(id));
      seen.add(id);
    }

    const grant = policy.certificateGrant(target, assumed, now);
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
    let notAfter = Math.min(grant.maxExpires.getTime(), caller.expires.getTime());
    const wanted = setTime(req.expires);
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
        // A renewal keeps the impersonator, so dropping a request cannot launder it away.
        impersonator: self ? caller.impersonator : caller.user,
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
    return {
      kind: 'user',
      subKind: '',
      version: 'v2',
      metadata: metadata(user.name),
      spec: { roles: [...user.roles], traits: toLabelValues(user.traits), expires: undefined },
    };
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
