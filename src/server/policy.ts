/**
 * The Policy of the embedded server (the contract in types.ts), assembled from the pure rule
 * modules: rbac (matchers, rules, impersonation), requests (creation, reviews, state,
 * capabilities) and resources (search).
 */

import type { AccessRequestV3 } from '../gen/teleport/legacy/types/types.js';
import { isUuid } from '../model/request-id.js';
import { isSetTime } from '../model/time.js';
import { AUTOMATIC_REVIEWER_ROLE } from './amr-service.js';
import {
  buildCatalog,
  canImpersonateRoles,
  canImpersonateUser,
  rolesNamed,
  rulesAllow,
  rulesDeny,
} from './rbac.js';
import { allowedResourceIdsOf, validatedRequest } from './requests/assume.js';
import { capabilities } from './requests/capabilities.js';
import { prepareCreate } from './requests/create.js';
import { durationOf, MAX_CERT_DURATION_MS } from './requests/expiry.js';
import { applyReview, canReview, canSee } from './requests/review.js';
import { applyState } from './requests/state.js';
import { userOrFail } from './requests/validator.js';
import { searchResources } from './resources.js';
import {
  type AuthPreference,
  badParameter,
  type Caller,
  notFound,
  type Policy,
  type Role,
  type Seed,
  type User,
} from './types.js';

/** The second factors a cluster accepts, with the legacy `second_factor` mapped as Teleport does. */
function secondFactors(pref: AuthPreference): string[] {
  if (pref.secondFactors) return pref.secondFactors;
  switch (pref.secondFactor) {
    case 'otp':
      return ['otp'];
    case 'webauthn':
      return ['webauthn'];
    case 'on':
    case 'optional':
      return ['otp', 'webauthn'];
    default:
      return [];
  }
}

/**
 * api/types/authentication.go, AuthPreferenceV2.IsAdminActionMFAEnforced: a second factor is
 * enforced (set, and not `optional`) and OTP is not allowed (OTP is not accepted for admin MFA).
 */
export function isAdminActionMfaEnforced(pref: AuthPreference | undefined): boolean {
  if (!pref) return false;
  const factors = secondFactors(pref);
  const enforced = factors.length > 0 && pref.secondFactor !== 'optional';
  return enforced && !factors.includes('otp');
}

/**
 * lib/authz/permissions.go, authorizer.isAdminActionAuthorizationRequired: bots, identities a
 * bot issued, and identities issued by the Auth host (impersonator `<host-uuid>.<cluster>`, as
 * `tctl auth sign` on the auth host makes them) need no MFA for admin actions.
 */
function isExemptFromAdminMfa(
  caller: Caller,
  userNamed: (name: string) => User | undefined,
  clusterName: string,
): boolean {
  if (userNamed(caller.user)?.bot) return true;
  const impersonator = caller.impersonator;
  if (!impersonator) return false;
  const issuer = userNamed(impersonator);
  if (issuer) return issuer.bot === true;
  return isHostIdentityName(impersonator, clusterName);
}

/** Whether `name` is a host identity of this cluster: `<uuid>.<cluster>`. */
export function isHostIdentityName(name: string, clusterName: string): boolean {
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot + 1) === clusterName && isUuid(name.slice(0, dot));
}

/** A role's max_session_ttl; unset or invalid is Teleport's MaxCertDuration. */
function maxSessionTtl(s: string | undefined): number {
  const ms = durationOf(s);
  return ms > 0 ? ms : MAX_CERT_DURATION_MS;
}

/**
 * lib/services/presets.go, NewSystemAutomaticAccessApproverRole: the role of Teleport's automatic
 * reviewer, allowed to review requests for every role.
 */
function automaticReviewerRole(): Role {
  return {
    name: AUTOMATIC_REVIEWER_ROLE,
    options: {},
    allow: { review_requests: { roles: ['*'] } },
    deny: {},
  };
}

/** Builds the policy of a seed for the cluster `clusterName` (used in resource IDs). */
export function createPolicy(seed: Seed, clusterName: string): Policy {
  const withBot = seed.roles.some((r) => r.name === AUTOMATIC_REVIEWER_ROLE)
    ? seed
    : { ...seed, roles: [...seed.roles, automaticReviewerRole()] };
  const catalog = buildCatalog(withBot, clusterName);
  return {
    clusterName,
    user: (name) => catalog.users.get(name),
    role: (name) => catalog.roles.get(name),
    allows: (caller, verb, resource = 'access_request') =>
      rulesAllow(rolesNamed(catalog, caller.roles), resource, verb),
    denies: (caller, verb, resource = 'access_request') =>
      rulesDeny(rolesNamed(catalog, caller.roles), resource, verb),
    canImpersonateSomeone: (caller) =>
      rolesNamed(catalog, caller.roles).some(
        (r) => (r.allow.impersonate?.users?.length ?? 0) > 0 || (r.allow.impersonate?.roles?.length ?? 0) > 0,
      ),
    adminActionNeedsMfa: (caller) =>
      isAdminActionMfaEnforced(seed.authPreference) &&
      !isExemptFromAdminMfa(caller, (name) => catalog.users.get(name), clusterName),
    prepareCreate: (actor, req, now) => prepareCreate(catalog, actor, req, now),
    canSee: (caller, req) => canSee(catalog, caller, req),
    canReview: (caller, req) => canReview(catalog, caller, req),
    applyReview: (author, req, review, now) => applyReview(catalog, author, req, review, now),
    applyState: (req, change, now) => applyState(req, change, now),
    capabilities: (caller, query) => capabilities(catalog, caller, query),
    searchResources: (caller, query) => searchResources(catalog, caller, query),
    certificateGrant(user: string, assumed: AccessRequestV3[], now: Date, roleRequests?: readonly string[]) {
      const u = userOrFail(catalog, user);
      const roles = roleRequests ? [...roleRequests] : [...u.roles];
      let allowedResourceIds: string[] = [];
      let latest = now.getTime() + MAX_CERT_DURATION_MS;
      for (const req of assumed) {
        validatedRequest(req, req.metadata?.name ?? '', user, now);
        const ids = allowedResourceIdsOf(req);
        if (ids.length > 0) {
          if (allowedResourceIds.length > 0) {
            throw badParameter('cannot generate certificate with multiple resource access requests');
          }
          allowedResourceIds = ids;
        }
        for (const r of req.spec?.roles ?? []) if (!roles.includes(r)) roles.push(r);
        const expires = req.spec?.expires;
        if (isSetTime(expires)) latest = Math.min(latest, expires.getTime());
      }
      // services.FetchRoleList: every role of the certificate must exist.
      for (const name of roles)
        if (!catalog.roles.has(name)) throw notFound(`role ${JSON.stringify(name)} is not found`);
      for (const role of rolesNamed(catalog, roles)) {
        latest = Math.min(latest, now.getTime() + maxSessionTtl(role.options.max_session_ttl));
      }
      return { roles, allowedResourceIds, traits: u.traits, maxExpires: new Date(latest) };
    },
    resourceLabels: (ids) =>
      ids.flatMap((id) => {
        const r = catalog.resources.find(
          (x) =>
            x.name === id.name &&
            (x.kind === id.kind || (id.kind === 'kube_cluster' && x.kind === 'kube_cluster')),
        );
        return r ? [{ ...r.labels }] : [];
      }),
    canImpersonateRoles: (caller, roles) => canImpersonateRoles(rolesNamed(catalog, caller.roles), roles),
    canImpersonate(caller, user) {
      if (caller.user === user) return true;
      const target = catalog.users.get(user);
      return target !== undefined && canImpersonateUser(rolesNamed(catalog, caller.roles), target);
    },
  };
}
