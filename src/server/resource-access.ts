/**
 * Which resources a role grants or denies: label selectors (with traits interpolated) and
 * Kubernetes resource matchers. Deny always wins over allow.
 */
import { LEGACY_KUBE_KINDS } from '../model/resource-id.js';
import { assignmentsMatch, isIdentityCenterKind } from './identity-center.js';
import { compileRoleMatcher, matchesAny, matchRoleExpr } from './role-matchers.js';
import { applyValueTraits, expandOrSkip, TraitError, type Traits } from './traits.js';
import type { KubeResourceMatcher, LabelSelector, Resource, Role, RoleConditions } from './types.js';

const MATCHER_TEMPLATE = /\{\{\s*regexp\.(match|not_match)\(/;

/**
 * Checks the syntax of a label selector value or trait template: a matcher, or a template
 * whose expression parses (a missing trait is fine here). Throws an Error describing the problem.
 */
export function checkSelectorValue(value: string): void {
  if (MATCHER_TEMPLATE.test(value) || !value.includes('{{')) {
    compileRoleMatcher(value);
    return;
  }
  try {
    applyValueTraits(value, {});
  } catch (err) {
    if (err instanceof TraitError && err.missingTrait) return;
    throw err;
  }
}

/** Trait interpolation of a label selector, key and values, as Teleport applies role traits. */
export function interpolateSelector(
  sel: LabelSelector | undefined,
  traits: Traits,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, raw] of Object.entries(sel ?? {})) {
    const keys = expandOrSkip(key, traits);
    if (keys.length !== 1) continue;
    const values = (Array.isArray(raw) ? raw : [raw]).flatMap((v) =>
      MATCHER_TEMPLATE.test(v) ? [v] : expandOrSkip(v, traits),
    );
    out[keys[0]] = [...new Set(values)];
  }
  return out;
}

/**
 * Teleport's MatchLabels: an empty selector matches nothing; `'*': '*'` matches everything;
 * otherwise every selector key must be present with a value matched by one of the selector's
 * values (literal, glob or `^…$` regexp; `*` matches any value).
 */
export function matchLabels(
  selector: Readonly<Record<string, string[]>>,
  labels: Readonly<Record<string, string>>,
) {
  const keys = Object.keys(selector);
  if (keys.length === 0) return false;
  const wildcard = selector['*'];
  if (wildcard && wildcard.length === 1 && wildcard[0] === '*') return true;
  return keys.every((key) => {
    if (!Object.hasOwn(labels, key)) return false;
    const values = selector[key];
    return values.includes('*') || matchesAny(values, labels[key]);
  });
}

/** A Kubernetes kind as plural + API group; legacy singular names (`pod`) are translated. */
export function normalizeKubeKind(kind: string, apiGroup?: string): { plural: string; group?: string } {
  if (Object.hasOwn(LEGACY_KUBE_KINDS, kind)) {
    const k = LEGACY_KUBE_KINDS[kind];
    return { plural: k.plural, group: k.apiGroup };
  }
  if (kind === 'namespace') return { plural: 'namespaces', group: '' };
  return { plural: kind, group: apiGroup };
}

/**
 * Whether a `kubernetes_resources` entry matches a Kubernetes object: kind (`*`, plural or
 * legacy singular), API group when the entry names one, namespace and name (globs, regexps,
 * trait templates). An entry without a namespace matches every namespace.
 */
export function kubeMatcherMatches(m: KubeResourceMatcher, r: Resource, traits: Traits): boolean {
  const want = normalizeKubeKind(m.kind, m.api_group);
  const have = r.kubeKind ?? '';
  if (want.plural !== '*' && !matchRoleExpr(want.plural, have)) return false;
  if (want.group !== undefined && want.group !== '*' && want.plural !== '*') {
    if (!matchRoleExpr(want.group, r.apiGroup ?? '')) return false;
  }
  const fieldMatches = (pattern: string | undefined, value: string) =>
    pattern === undefined ||
    pattern === '' ||
    expandOrSkip(pattern, traits).some((p) => matchRoleExpr(p, value));
  if (r.namespace && !fieldMatches(m.namespace, r.namespace)) return false;
  return fieldMatches(m.name, r.name);
}

function selectorFor(cond: RoleConditions, kind: Resource['kind']): LabelSelector | undefined {
  switch (kind) {
    case 'node':
      return cond.node_labels;
    case 'db':
      return cond.db_labels;
    case 'app':
      return cond.app_labels;
    case 'kube_cluster':
    case 'kube_resource':
      return cond.kubernetes_labels;
    case 'windows_desktop':
      return cond.windows_desktop_labels;
    // api/types/role.go: RoleV6.GetLabelMatchers: KindUserGroup -> group_labels,
    // KindSAMLIdPServiceProvider (with KindApp) -> app_labels.
    case 'user_group':
      return cond.group_labels;
    case 'saml_idp_service_provider':
      return cond.app_labels;
  }
}

/** Looks up the labels of a resource's Kubernetes cluster (kube_resource access depends on them). */
export type KubeClusterLabels = (cluster: string) => Readonly<Record<string, string>> | undefined;

function labelsFor(
  r: Resource,
  clusterLabels: KubeClusterLabels,
): Readonly<Record<string, string>> | undefined {
  return r.kind === 'kube_resource' ? clusterLabels(r.kubeCluster ?? '') : r.labels;
}

/** Whether the role's allow block grants the resource (deny blocks are checked separately). */
export function roleAllowsResource(
  role: Role,
  r: Resource,
  traits: Traits,
  clusterLabels: KubeClusterLabels,
) {
  if (isIdentityCenterKind(r.kind)) return assignmentsMatch(role.allow, r);
  const labels = labelsFor(r, clusterLabels);
  if (!labels || !matchLabels(interpolateSelector(selectorFor(role.allow, r.kind), traits), labels))
    return false;
  if (r.kind !== 'kube_resource') return true;
  const matchers = role.allow.kubernetes_resources;
  // A role with kubernetes_labels and no kubernetes_resources allows every object (role v7 default).
  if (!matchers || matchers.length === 0) return true;
  return matchers.some((m) => kubeMatcherMatches(m, r, traits));
}

/** Whether the role's deny block refuses the resource. */
export function roleDeniesResource(
  role: Role,
  r: Resource,
  traits: Traits,
  clusterLabels: KubeClusterLabels,
) {
  if (isIdentityCenterKind(r.kind)) return assignmentsMatch(role.deny, r);
  const labels = labelsFor(r, clusterLabels);
  if (labels && matchLabels(interpolateSelector(selectorFor(role.deny, r.kind), traits), labels)) return true;
  if (r.kind !== 'kube_resource') return false;
  return (role.deny.kubernetes_resources ?? []).some((m) => kubeMatcherMatches(m, r, traits));
}

/** Whether a set of roles grants the resource: some role allows it and none denies it. */
export function rolesAllowResource(
  roles: readonly Role[],
  r: Resource,
  traits: Traits,
  clusterLabels: KubeClusterLabels,
): boolean {
  if (roles.some((role) => roleDeniesResource(role, r, traits, clusterLabels))) return false;
  return roles.some((role) => roleAllowsResource(role, r, traits, clusterLabels));
}
