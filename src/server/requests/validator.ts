/**
 * The request rules of a user's statically assigned roles, compiled once (Teleport's
 * RequestValidator in lib/services/access_request.go).
 */
import type { AccessReviewThreshold, ThresholdIndexSet } from '../../gen/teleport/legacy/types/types.js';
import { type Catalog, rolesNamed } from '../rbac.js';
import { matchesAny, matchRoleExpr, roleMatchers } from '../role-matchers.js';
import { expandOrSkip } from '../traits.js';
import type { KubeResourceMatcher, Role, User } from '../types.js';
import { accessDenied, badParameter, notFound } from '../types.js';
import { durationOf } from './expiry.js';
import { dedupe } from './wire.js';

interface ThresholdGroup {
  matchers: string[];
  thresholds: AccessReviewThreshold[];
}

/** One allowed (key, value) system annotation and the requested roles that trigger it. */
interface AnnotationRule {
  key: string;
  value: string;
  roleMatchers: string[];
  searchMatchers: string[];
}

/**
 * The request rules of a user's statically assigned roles, compiled once: Teleport's
 * RequestValidator.
 */
export class RequestValidator {
  readonly requireReasonForAll: boolean;
  readonly requiringReason: string[] = [];
  /** allow.request.reason.prompt of each role, with the requested roles it applies to. */
  readonly reasonPromptGroups: { matchers: string[]; prompt: string }[] = [];
  readonly prompt: string;
  readonly autoRequest: boolean;
  readonly allowRequest: string[] = [];
  readonly denyRequest: string[] = [];
  readonly allowSearch: string[] = [];
  readonly denySearch: string[] = [];
  readonly thresholdGroups: ThresholdGroup[] = [];
  readonly maxDurationGroups: { matchers: string[]; ms: number }[] = [];
  readonly annotationRules: AnnotationRule[] = [];
  readonly deniedAnnotations = new Set<string>();
  readonly suggestedReviewers: string[] = [];
  /** request.kubernetes_resources per search_as role; an empty list allows every kind. */
  readonly kubeAllow = new Map<string, KubeResourceMatcher[]>();
  readonly kubeDeny: KubeResourceMatcher[] = [];

  constructor(
    readonly catalog: Catalog,
    readonly user: User,
  ) {
    const roles = this.roles;
    const traits = user.traits;
    this.requireReasonForAll = roles.some((r) => r.options.request_access === 'reason');
    this.autoRequest = roles.some(
      (r) => r.options.request_access === 'reason' || r.options.request_access === 'always',
    );
    this.prompt = roles.find((r) => r.options.request_prompt)?.options.request_prompt ?? '';
    for (const role of roles) {
      const allow = role.allow.request ?? {};
      const deny = role.deny.request ?? {};
      if (allow.reason?.mode === 'required') {
        this.requiringReason.push(...(allow.roles ?? []), ...(allow.search_as_roles ?? []));
      }
      if (allow.reason?.prompt) {
        this.reasonPromptGroups.push({
          matchers: [...(allow.roles ?? []), ...(allow.search_as_roles ?? [])],
          prompt: allow.reason.prompt,
        });
      }
      const searchAs = allow.search_as_roles ?? [];
      if (!allow.kubernetes_resources || allow.kubernetes_resources.length === 0) {
        for (const r of searchAs) this.kubeAllow.set(r, []);
      } else {
        for (const r of searchAs) {
          const current = this.kubeAllow.get(r);
          if (current && current.length === 0) continue;
          this.kubeAllow.set(r, [...(current ?? []), ...allow.kubernetes_resources]);
        }
      }
      this.kubeDeny.push(...(deny.kubernetes_resources ?? []));
      this.denyRequest.push(...roleMatchers(deny, traits));
      const requestMatchers = roleMatchers(allow, traits);
      this.allowRequest.push(...requestMatchers);
      for (const r of searchAs) if (!this.allowSearch.includes(r)) this.allowSearch.push(r);
      for (const r of deny.search_as_roles ?? []) if (!this.denySearch.includes(r)) this.denySearch.push(r);
      const matchers = [...requestMatchers, ...searchAs];
      if (matchers.length > 0) {
        this.thresholdGroups.push({
          matchers,
          thresholds: (allow.thresholds ?? []).map((t) => ({
            name: t.name ?? '',
            filter: t.filter ?? '',
            approve: t.approve ?? 0,
            deny: t.deny ?? 0,
          })),
        });
        const ms = durationOf(allow.max_duration);
        if (ms > 0) this.maxDurationGroups.push({ matchers, ms });
      }
      for (const [key, templates] of Object.entries(allow.annotations ?? {})) {
        for (const value of templates.flatMap((t) => expandOrSkip(t, traits))) {
          this.annotationRules.push({ key, value, roleMatchers: requestMatchers, searchMatchers: searchAs });
        }
      }
      for (const [key, templates] of Object.entries(deny.annotations ?? {})) {
        for (const value of templates.flatMap((t) => expandOrSkip(t, traits))) {
          this.deniedAnnotations.add(`${key}\u0000${value}`);
        }
      }
      this.suggestedReviewers.push(...(allow.suggested_reviewers ?? []));
    }
  }

  get roles(): Role[] {
    return rolesNamed(this.catalog, this.user.roles);
  }

  canRequestRole(name: string): boolean {
    if (matchesAny(this.denyRequest, name)) return false;
    return matchesAny(this.allowRequest, name);
  }

  canSearchAsRole(name: string): boolean {
    if (this.denySearch.includes(name) || matchesAny(this.denyRequest, name)) return false;
    return this.allowSearch.includes(name);
  }

  /** Every existing role the user does not hold and may request, sorted. */
  requestableRoles(): string[] {
    return [...this.catalog.roles.keys()]
      .filter((n) => !this.user.roles.includes(n) && this.canRequestRole(n))
      .sort();
  }

  usableSearchAsRoles(): string[] {
    const roles = this.allowSearch.filter((r) => this.canSearchAsRole(r));
    if (roles.length === 0) {
      throw accessDenied(
        `Resource Access Requests require usable "search_as_roles", none found for user ${JSON.stringify(this.user.name)}`,
      );
    }
    return roles;
  }

  /** Why a reason is needed for these roles, or undefined. */
  reasonRequirement(roles: readonly string[]): string | undefined {
    if (this.requireReasonForAll) {
      return 'request reason must be specified (required request_access option in one of the roles)';
    }
    const role = roles.find((r) => matchesAny(this.requiringReason, r));
    return role === undefined
      ? undefined
      : `request reason must be specified (required for role ${JSON.stringify(role)})`;
  }

  /**
   * What a dry run reports about the reason (types.AccessRequestDryRunEnrichment): the mode,
   * `required` when a reason is needed for these roles and `optional` otherwise, and the
   * `reason.prompt` of every requester role that covers one of them, sorted and
   * deduplicated (Teleport's lib/services TestReasonConfigIsSpellingIndependent: the dry run
   * tells clients what to prompt for, from the same reason configuration that refuses a
   * request without one).
   */
  dryRunEnrichment(roles: readonly string[]): { reasonMode: string; reasonPrompts: string[] } {
    const prompts = this.reasonPromptGroups
      .filter((g) => roles.some((r) => matchesAny(g.matchers, r)))
      .map((g) => g.prompt);
    return {
      reasonMode: this.reasonRequirement(roles) === undefined ? 'optional' : 'required',
      reasonPrompts: [...new Set(prompts)].sort(),
    };
  }

  maxDurationForRole(role: string): number {
    let ms = 0;
    for (const g of this.maxDurationGroups) {
      if (g.ms > ms && g.matchers.some((m) => matchRoleExpr(m, role))) ms = g.ms;
    }
    return ms;
  }

  systemAnnotations(roles: readonly string[], resourceRequest: boolean): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const rule of this.annotationRules) {
      if (this.deniedAnnotations.has(`${rule.key}\u0000${rule.value}`)) continue;
      const matchers = resourceRequest ? rule.searchMatchers : rule.roleMatchers;
      if (!roles.some((r) => matchesAny(matchers, r))) continue;
      out[rule.key] = [...(out[rule.key] ?? []), rule.value];
    }
    for (const k of Object.keys(out)) out[k] = dedupe(out[k]).sort();
    return out;
  }

  /** Thresholds and role_threshold_mapping for the requested roles (Teleport's threshold sets). */
  thresholds(roles: readonly string[]): {
    thresholds: AccessReviewThreshold[];
    rtm: Record<string, { sets: ThresholdIndexSet[] }>;
  } {
    const thresholds: AccessReviewThreshold[] = [];
    const push = (t: AccessReviewThreshold): number => {
      const i = thresholds.findIndex(
        (x) => x.name === t.name && x.filter === t.filter && x.approve === t.approve && x.deny === t.deny,
      );
      if (i >= 0) return i;
      thresholds.push(t);
      return thresholds.length - 1;
    };
    const rtm: Record<string, { sets: ThresholdIndexSet[] }> = {};
    for (const role of roles) {
      const sets: ThresholdIndexSet[] = [];
      for (const g of this.thresholdGroups) {
        if (!g.matchers.some((m) => matchRoleExpr(m, role))) continue;
        const group =
          g.thresholds.length > 0 ? g.thresholds : [{ name: 'default', filter: '', approve: 1, deny: 1 }];
        sets.push({ indexes: group.map(push) });
      }
      if (sets.length === 0) throw badParameter(`role ${JSON.stringify(role)} matches no threshold sets`);
      rtm[role] = { sets };
    }
    return { thresholds, rtm };
  }
}

export function userOrFail(catalog: Catalog, name: string): User {
  const user = catalog.users.get(name);
  if (!user) throw notFound(`user ${JSON.stringify(name)} is not found`);
  return user;
}
