/**
 * The Policy of the embedded server (the contract in types.ts), assembled from the pure rule
 * modules: rbac (matchers, rules, impersonation), requests (creation, reviews, state,
 * capabilities) and resources (search).
 */
import type { AccessRequestV3 } from '../gen/teleport/legacy/types/types.js';
import { parseDuration } from '../model/duration.js';
import { buildCatalog, canImpersonateUser, rolesNamed, rulesAllow } from './rbac.js';
import {
  allowedResourceIdsOf,
  applyReview,
  applyState,
  canReview,
  canSee,
  capabilities,
  checkAssumable,
  isSet,
  MAX_CERT_DURATION_MS,
  prepareCreate,
} from './requests.js';
import { searchResources } from './resources.js';
import { type Policy, type Seed, ServerError } from './types.js';

function maxSessionTtl(s: string | undefined): number {
  if (!s) return MAX_CERT_DURATION_MS;
  try {
    const ms = parseDuration(s);
    return ms > 0 ? ms : MAX_CERT_DURATION_MS;
  } catch {
    return MAX_CERT_DURATION_MS;
  }
}

/** Builds the policy of a seed for the cluster `clusterName` (used in resource IDs). */
export function createPolicy(seed: Seed, clusterName: string): Policy {
  const catalog = buildCatalog(seed, clusterName);
  return {
    clusterName,
    user: (name) => catalog.users.get(name),
    role: (name) => catalog.roles.get(name),
    allows: (caller, verb) => rulesAllow(rolesNamed(catalog, caller.roles), 'access_request', verb),
    prepareCreate: (actor, req, now) => prepareCreate(catalog, actor, req, now),
    canSee: (caller, req) => canSee(catalog, caller, req),
    canReview: (caller, req) => canReview(catalog, caller, req),
    applyReview: (author, req, review, now) => applyReview(catalog, author, req, review, now),
    applyState: (req, change, now) => applyState(req, change, now),
    capabilities: (caller, query) => capabilities(catalog, caller, query),
    searchResources: (caller, query) => searchResources(catalog, caller, query),
    certificateGrant(user: string, assumed: AccessRequestV3[], now: Date) {
      const u = catalog.users.get(user);
      if (!u) throw new ServerError(5, `user ${JSON.stringify(user)} is not found`);
      const roles = [...u.roles];
      let allowedResourceIds: string[] = [];
      let latest = now.getTime() + MAX_CERT_DURATION_MS;
      for (const req of assumed) {
        checkAssumable(req, user, now);
        const ids = allowedResourceIdsOf(req);
        if (ids.length > 0) {
          if (allowedResourceIds.length > 0) {
            throw new ServerError(3, 'cannot generate certificate with multiple resource access requests');
          }
          allowedResourceIds = ids;
        }
        for (const r of req.spec?.roles ?? []) if (!roles.includes(r)) roles.push(r);
        const expires = req.spec?.expires;
        if (isSet(expires)) latest = Math.min(latest, expires.getTime());
      }
      for (const role of rolesNamed(catalog, roles)) {
        latest = Math.min(latest, now.getTime() + maxSessionTtl(role.options.max_session_ttl));
      }
      return { roles, allowedResourceIds, traits: u.traits, maxExpires: new Date(latest) };
    },
    canImpersonate(caller, user) {
      if (caller.user === user) return true;
      const target = catalog.users.get(user);
      return target !== undefined && canImpersonateUser(rolesNamed(catalog, caller.roles), target);
    },
  };
}
