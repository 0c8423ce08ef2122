/**
 * Teleport's role rules, pure: `rules` (verbs on resources), review permissions,
 * impersonation, and the seed indexed as a catalog. Matchers, traits and resource access are
 * in role-matchers.ts, traits.ts and resource-access.ts. Deny always wins over allow.
 */

import type { KubeClusterLabels } from './resource-access.js';
import { type ReviewContext, reviewExprMatches } from './review-env.js';
import { matchesAny, roleMatchers } from './role-matchers.js';
import type { Resource, Role, RoleConditions, Seed, User } from './types.js';

function ruleMatches(rules: RoleConditions['rules'], resource: string, verb: string): boolean {
  return (rules ?? []).some(
    (r) =>
      (r.resources.includes('*') || r.resources.includes(resource)) &&
      (r.verbs.includes('*') || r.verbs.includes(verb)),
  );
}

/** Whether a deny rule of the roles names `verb` on `resource` (`*` resources and verbs match all). */
export function rulesDeny(roles: readonly Role[], resource: string, verb: string): boolean {
  return roles.some((r) => ruleMatches(r.deny.rules, resource, verb));
}

/** Whether the roles allow `verb` on `resource` (deny rules win; `*` resources and verbs match all). */
export function rulesAllow(roles: readonly Role[], resource: string, verb: string): boolean {
  if (rulesDeny(roles, resource, verb)) return false;
  return roles.some((r) => ruleMatches(r.allow.rules, resource, verb));
}

/** Teleport's "access denied" message for a rule check: one text, in model/server-messages.ts. */
export { ruleDeniedMessage } from '../model/server-messages.js';

/** A request as review permission checks see it. */
export interface ReviewTarget {
  user: string;
  /** The roles originally requested (before any narrowing on approval). */
  roles: string[];
  reason: string;
  systemAnnotations: Readonly<Record<string, string[]>>;
}

/**
 * Teleport's review permission check, evaluated with the reviewer's own (static) roles: never
 * one's own request; no requested role may match a `deny.review_requests` entry whose `where`
 * holds; every requested role must match an `allow.review_requests` entry whose `where` holds.
 */
export function canReviewRequest(reviewer: User, reviewerRoles: readonly Role[], req: ReviewTarget): boolean {
  if (reviewer.name === req.user) return false;
  const ctx: ReviewContext = {
    reviewer: { roles: reviewer.roles, traits: reviewer.traits },
    request: { roles: req.roles, reason: req.reason, systemAnnotations: req.systemAnnotations },
  };
  for (const role of reviewerRoles) {
    const deny = role.deny.review_requests;
    if (!deny || !reviewExprMatches(deny.where, false, ctx)) continue;
    const patterns = roleMatchers(deny, reviewer.traits);
    if (req.roles.some((r) => matchesAny(patterns, r))) return false;
  }
  let needsAllow = [...req.roles];
  for (const role of reviewerRoles) {
    const allow = role.allow.review_requests;
    if (!allow || !reviewExprMatches(allow.where, false, ctx)) continue;
    const patterns = roleMatchers(allow, reviewer.traits);
    needsAllow = needsAllow.filter((r) => !matchesAny(patterns, r));
  }
  return needsAllow.length === 0 && req.roles.length > 0;
}

/**
 * lib/services/role.go, RoleSet.CheckImpersonate with matchDenyImpersonateCondition and
 * matchAllowImpersonateCondition. A condition takes part only when it names both users and
 * roles (user-less conditions are for role-only impersonation, role-less ones match nothing).
 * Deny is greedy: a condition matching the target user OR any of its roles refuses. Allow: one
 * condition must match the user AND every one of its roles. Names are matched as Teleport's
 * parse.NewAnyMatcher does (literal, glob, `^…$`, regexp.match/not_match).
 */
export function canImpersonateUser(callerRoles: readonly Role[], target: User): boolean {
  const usable = (c: { users?: string[]; roles?: string[] } | undefined) =>
    c !== undefined && (c.users?.length ?? 0) > 0 && (c.roles?.length ?? 0) > 0;
  for (const role of callerRoles) {
    const deny = role.deny.impersonate;
    if (!usable(deny)) continue;
    if (matchesAny(deny?.users, target.name) || target.roles.some((r) => matchesAny(deny?.roles, r))) {
      return false;
    }
  }
  return callerRoles.some((role) => {
    const allow = role.allow.impersonate;
    return (
      usable(allow) &&
      matchesAny(allow?.users, target.name) &&
      target.roles.every((r) => matchesAny(allow?.roles, r))
    );
  });
}

/**
 * lib/services/role.go, RoleSet.CheckImpersonateRoles: role-only impersonation counts only
 * conditions that name roles and no users; a deny condition naming any requested role refuses,
 * and a single allow condition must name every requested role.
 */
export function canImpersonateRoles(callerRoles: readonly Role[], requested: readonly string[]): boolean {
  const roleOnly = (c: { users?: string[]; roles?: string[] } | undefined) =>
    c !== undefined && (c.users?.length ?? 0) === 0 && (c.roles?.length ?? 0) > 0;
  for (const role of callerRoles) {
    const deny = role.deny.impersonate;
    if (roleOnly(deny) && requested.some((r) => matchesAny(deny?.roles, r))) return false;
  }
  return callerRoles.some((role) => {
    const allow = role.allow.impersonate;
    return roleOnly(allow) && requested.every((r) => matchesAny(allow?.roles, r));
  });
}

/** The seed, indexed for the policy. */
export interface Catalog {
  clusterName: string;
  roles: ReadonlyMap<string, Role>;
  users: ReadonlyMap<string, User>;
  resources: readonly Resource[];
  kubeClusterLabels: KubeClusterLabels;
}

export function buildCatalog(seed: Seed, clusterName: string): Catalog {
  const kubeClusters = new Map(
    seed.resources.filter((r) => r.kind === 'kube_cluster').map((r) => [r.name, r.labels] as const),
  );
  return {
    clusterName,
    roles: new Map(seed.roles.map((r) => [r.name, r])),
    users: new Map(seed.users.map((u) => [u.name, u])),
    resources: seed.resources,
    kubeClusterLabels: (name) => kubeClusters.get(name),
  };
}

/** The named roles that exist, in order, without repeats. */
export function rolesNamed(catalog: Catalog, names: readonly string[]): Role[] {
  const out: Role[] = [];
  for (const name of new Set(names)) {
    const role = catalog.roles.get(name);
    if (role) out.push(role);
  }
  return out;
}
