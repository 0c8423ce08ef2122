/**
 * Teleport's role-matching primitives, pure: role-name matchers (literal, `*` glob, `^…$`
 * regular expression, `{{regexp.match("…")}}`, `{{regexp.not_match("…")}}`), trait
 * interpolation (`{{internal.x}}`, `{{external.x}}`), claims_to_roles, label selectors,
 * rules, review permissions, impersonation and Kubernetes resource matchers. Deny always
 * wins over allow.
 */

import { LEGACY_KUBE_KINDS } from '../model/resource-id.js';
import { compilePredicate, type ReviewContext, reviewEnv } from './predicate.js';
import type {
  ClaimMapping,
  KubeResourceMatcher,
  LabelSelector,
  Resource,
  Role,
  RoleConditions,
  Seed,
  User,
} from './types.js';

export type Traits = Readonly<Record<string, readonly string[]>>;

/**
 * Teleport's `{{…}}` template: anything but braces, one expression in double braces, anything
 * but braces.
 */
const TEMPLATE = /^([^{}]*)\{\{(\s*[^{}]*\s*)\}\}([^{}]*)$/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** `*` matches any run of characters; everything else is literal. Anchored. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map(escapeRegExp).join('.*')}$`);
}

/** Go regular expressions may open with inline flags (`(?i)`); JavaScript takes them as flags. */
function goRegExp(source: string): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(source);
  return m ? new RegExp(source.slice(m[0].length), m[1]) : new RegExp(source);
}

/** A literal, a glob, or a `^…$` regular expression (Teleport's rule for plain matcher strings). */
export function literalMatcher(pattern: string): (value: string) => boolean {
  if (pattern === '*') return () => true;
  if (pattern.startsWith('^') && pattern.endsWith('$')) {
    const re = goRegExp(pattern);
    return (v) => re.test(v);
  }
  if (!pattern.includes('*')) return (v) => v === pattern;
  const re = globToRegExp(pattern);
  return (v) => re.test(v);
}

function parseStringArg(text: string): string | undefined {
  const t = text.trim();
  if (t.length < 2 || t[0] !== '"' || t[t.length - 1] !== '"') return undefined;
  try {
    return JSON.parse(t) as string;
  } catch {
    return undefined;
  }
}

/**
 * Compiles a role matcher expression. Throws an Error describing what is wrong when the
 * expression does not parse (template brackets without a supported function, a bad regexp).
 */
export function compileRoleMatcher(pattern: string): (value: string) => boolean {
  const m = TEMPLATE.exec(pattern);
  if (!m) {
    if (pattern.includes('{{') || pattern.includes('}}')) {
      throw new Error(
        `${JSON.stringify(pattern)} is using template brackets '{{' or '}}', however expression does not parse, make sure the format is {{expression}}`,
      );
    }
    try {
      return literalMatcher(pattern);
    } catch (err) {
      throw new Error(`failed to parse regexp ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
  }
  const [, prefix, expr, suffix] = m;
  const call = /^\s*regexp\.(match|not_match)\((.*)\)\s*$/.exec(expr);
  if (!call) {
    throw new Error(
      `${JSON.stringify(pattern)}: unsupported matcher expression ${JSON.stringify(expr.trim())} (use regexp.match("…") or regexp.not_match("…"))`,
    );
  }
  const source = parseStringArg(call[2]);
  if (source === undefined) {
    throw new Error(`${JSON.stringify(pattern)}: regexp.${call[1]} takes one quoted regular expression`);
  }
  let re: RegExp;
  try {
    re = goRegExp(source);
  } catch (err) {
    throw new Error(`${JSON.stringify(pattern)}: invalid regular expression: ${(err as Error).message}`);
  }
  const negate = call[1] === 'not_match';
  return (value) => {
    if (
      !value.startsWith(prefix) ||
      !value.endsWith(suffix) ||
      value.length < prefix.length + suffix.length
    ) {
      return false;
    }
    const inner = value.slice(prefix.length, value.length - suffix.length);
    return re.test(inner) !== negate;
  };
}

const matcherCache = new Map<string, (value: string) => boolean>();

/** Whether `value` matches the role matcher `pattern`; an invalid pattern matches nothing. */
export function matchRoleExpr(pattern: string, value: string): boolean {
  let fn = matcherCache.get(pattern);
  if (!fn) {
    try {
      fn = compileRoleMatcher(pattern);
    } catch {
      fn = () => false;
    }
    matcherCache.set(pattern, fn);
  }
  return fn(value);
}

export function matchesAny(patterns: readonly string[] | undefined, value: string): boolean {
  return (patterns ?? []).some((p) => matchRoleExpr(p, value));
}

/** Why a trait template could not be expanded (a missing trait, a malformed template). */
export class TraitError extends Error {
  override readonly name = 'TraitError';
  constructor(
    message: string,
    /** True when the expression is fine but the user lacks the trait (Teleport's trace.NotFound). */
    readonly missingTrait = false,
  ) {
    super(message);
  }
}

function traitValues(namespace: string, name: string, traits: Traits): readonly string[] {
  if (namespace !== 'internal' && namespace !== 'external') {
    throw new TraitError(`unsupported variable namespace ${JSON.stringify(namespace)}`);
  }
  if (!Object.hasOwn(traits, name)) throw new TraitError(`variable not found: ${namespace}.${name}`, true);
  return traits[name];
}

function evalTraitExpr(expr: string, traits: Traits): string[] {
  const e = expr.trim();
  const emailLocal = /^email\.local\((.*)\)$/.exec(e);
  if (emailLocal) {
    return evalTraitExpr(emailLocal[1], traits).map((v) => {
      const at = v.indexOf('@');
      if (at <= 0) throw new TraitError(`email.local: ${JSON.stringify(v)} is not an email address`);
      return v.slice(0, at);
    });
  }
  const replace = /^regexp\.replace\((.*),\s*("(?:[^"\\]|\\.)*")\s*,\s*("(?:[^"\\]|\\.)*")\s*\)$/.exec(e);
  if (replace) {
    const re = goRegExp(parseStringArg(replace[2]) ?? '');
    const replacement = (parseStringArg(replace[3]) ?? '').replace(/\$\{?(\d+)\}?/g, '$$$1');
    return evalTraitExpr(replace[1], traits)
      .filter((v) => re.test(v))
      .map((v) => v.replace(new RegExp(re.source, `${re.flags}g`), replacement));
  }
  const dotted = /^([A-Za-z_]+)\.([A-Za-z0-9_.-]+)$/.exec(e);
  if (dotted) return [...traitValues(dotted[1], dotted[2], traits)];
  const indexed = /^([A-Za-z_]+)\[\s*("(?:[^"\\]|\\.)*")\s*\]$/.exec(e);
  if (indexed) return [...traitValues(indexed[1], parseStringArg(indexed[2]) ?? '', traits)];
  throw new TraitError(`unsupported expression ${JSON.stringify(e)}`);
}

/**
 * Expands `prefix{{internal.x}}suffix` into one value per trait value (empty values dropped),
 * or returns the literal. Throws TraitError when a trait is missing or the template is invalid;
 * Teleport callers skip such values. Both namespaces read the user's traits (local users
 * have no separate external traits).
 */
export function applyValueTraits(template: string, traits: Traits): string[] {
  const m = TEMPLATE.exec(template);
  if (!m) {
    if (template.includes('{{') || template.includes('}}')) {
      throw new TraitError(
        `${JSON.stringify(template)} is using template brackets '{{' or '}}' but does not parse`,
      );
    }
    return [template];
  }
  const [, prefix, expr, suffix] = m;
  return evalTraitExpr(expr, traits)
    .filter((v) => v !== '')
    .map((v) => `${prefix.trimStart()}${v}${suffix.trimEnd()}`);
}

/** Like applyValueTraits, but a value that cannot be expanded yields nothing. */
export function expandOrSkip(template: string, traits: Traits): string[] {
  try {
    return applyValueTraits(template, traits);
  } catch (err) {
    if (err instanceof TraitError) return [];
    throw err;
  }
}

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

/**
 * Role patterns granted by claims_to_roles: for every trait value of `claim` matched by `value`
 * (glob or `^…$` regexp, with `$1` captures substituted into the roles), the mapping's roles.
 */
export function claimsToRolePatterns(
  mappings: readonly ClaimMapping[] | undefined,
  traits: Traits,
): string[] {
  const out: string[] = [];
  for (const mapping of mappings ?? []) {
    const values = Object.hasOwn(traits, mapping.claim) ? traits[mapping.claim] : [];
    let re: RegExp;
    try {
      re =
        mapping.value.startsWith('^') && mapping.value.endsWith('$')
          ? goRegExp(mapping.value)
          : globToRegExp(mapping.value);
    } catch {
      continue;
    }
    for (const v of values) {
      const m = re.exec(v);
      if (!m) continue;
      for (const role of mapping.roles) {
        const expanded = role.replace(/\$\{?(\d+)\}?/g, (_, n: string) => m[Number(n)] ?? '');
        if (expanded !== '') out.push(expanded);
      }
    }
  }
  return out;
}

/** The role matchers of a request or review condition: its roles plus its claims_to_roles results. */
export function roleMatchers(
  cond: { roles?: string[]; claims_to_roles?: ClaimMapping[] } | undefined,
  traits: Traits,
): string[] {
  return [...(cond?.roles ?? []), ...claimsToRolePatterns(cond?.claims_to_roles, traits)];
}

function ruleMatches(rules: RoleConditions['rules'], resource: string, verb: string): boolean {
  return (rules ?? []).some(
    (r) =>
      (r.resources.includes('*') || r.resources.includes(resource)) &&
      (r.verbs.includes('*') || r.verbs.includes(verb)),
  );
}

/** Whether the roles allow `verb` on `resource` (deny rules win; `*` resources and verbs match all). */
export function rulesAllow(roles: readonly Role[], resource: string, verb: string): boolean {
  if (roles.some((r) => ruleMatches(r.deny.rules, resource, verb))) return false;
  return roles.some((r) => ruleMatches(r.allow.rules, resource, verb));
}

/** Teleport's "access denied" message for a rule check. */
export function ruleDeniedMessage(resource: string, verb: string): string {
  return `access denied to perform action "${verb}" on "${resource}"`;
}

/** A request as review permission checks see it. */
export interface ReviewTarget {
  user: string;
  /** The roles originally requested (before any narrowing on approval). */
  roles: string[];
  reason: string;
  systemAnnotations: Readonly<Record<string, string[]>>;
}

const whereCache = new Map<string, ((ctx: ReviewContext) => boolean) | null>();

function whereMatches(expr: string | undefined, ctx: ReviewContext): boolean {
  if (!expr) return true;
  let fn = whereCache.get(expr);
  if (fn === undefined) {
    try {
      fn = compilePredicate(expr, reviewEnv(false));
    } catch {
      fn = null;
    }
    whereCache.set(expr, fn);
  }
  return fn ? fn(ctx) : false;
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
    if (!deny || !whereMatches(deny.where, ctx)) continue;
    const patterns = roleMatchers(deny, reviewer.traits);
    if (req.roles.some((r) => matchesAny(patterns, r))) return false;
  }
  let needsAllow = [...req.roles];
  for (const role of reviewerRoles) {
    const allow = role.allow.review_requests;
    if (!allow || !whereMatches(allow.where, ctx)) continue;
    const patterns = roleMatchers(allow, reviewer.traits);
    needsAllow = needsAllow.filter((r) => !matchesAny(patterns, r));
  }
  return needsAllow.length === 0 && req.roles.length > 0;
}

/**
 * Teleport's impersonation check: no deny condition may match the target user (and one of its
 * roles, when the condition names roles), and one allow condition must match the user and
 * every one of its roles.
 */
export function canImpersonateUser(callerRoles: readonly Role[], target: User): boolean {
  for (const role of callerRoles) {
    const deny = role.deny.impersonate;
    if (!deny || !matchesAny(deny.users, target.name)) continue;
    if (!deny.roles || deny.roles.length === 0 || target.roles.some((r) => matchesAny(deny.roles, r))) {
      return false;
    }
  }
  return callerRoles.some((role) => {
    const allow = role.allow.impersonate;
    return (
      allow !== undefined &&
      matchesAny(allow.users, target.name) &&
      target.roles.every((r) => matchesAny(allow.roles, r))
    );
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

/**
 * Whether a condition block's `account_assignments` name an AWS Identity Center resource:
 * lib/services/identitycenter.go: IdentityCenterAccountMatcher.Match (the account ID) and
 * IdentityCenterAccountAssignmentMatcher.Match (the account ID and the permission set ARN),
 * each through matchExpression (`*`, a glob or a `^…$` regexp).
 * lib/services/role.go: resourceRequiresLabelMatching is false for these kinds, so labels
 * play no part: RoleSet.checkAccess denies when a deny block matches and allows when an
 * allow block does.
 */
function assignmentsMatch(cond: RoleConditions, r: Resource): boolean {
  const accountId = r.awsAccount?.id ?? '';
  return (cond.account_assignments ?? []).some(
    (a) =>
      matchRoleExpr(a.account ?? '', accountId) &&
      (r.kind === 'aws_ic_account' || matchRoleExpr(a.permission_set ?? '', r.permissionSet?.arn ?? '')),
  );
}

const IDENTITY_CENTER_KINDS: ReadonlySet<Resource['kind']> = new Set([
  'aws_ic_account',
  'aws_ic_account_assignment',
]);

/** Whether the role's allow block grants the resource (deny blocks are checked separately). */
export function roleAllowsResource(
  role: Role,
  r: Resource,
  traits: Traits,
  clusterLabels: KubeClusterLabels,
) {
  if (IDENTITY_CENTER_KINDS.has(r.kind)) return assignmentsMatch(role.allow, r);
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
  if (IDENTITY_CENTER_KINDS.has(r.kind)) return assignmentsMatch(role.deny, r);
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
