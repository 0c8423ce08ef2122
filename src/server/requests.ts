/**
 * Access requests as Teleport's auth server treats them, pure: validating and completing a new
 * request (roles, search_as_roles resources, reasons, thresholds, annotations, expiries),
 * applying reviews (threshold sets, state transitions), SetAccessRequestState, visibility and
 * GetAccessCapabilities. Every refusal is a ServerError with Teleport's gRPC code and wording.
 */
import { randomBytes } from 'node:crypto';
import {
  type AccessCapabilities,
  AccessRequestV3,
  type AccessReview,
  type AccessReviewThreshold,
  RequestState,
  type ResourceID,
  type ThresholdIndexSet,
} from '../gen/teleport/legacy/types/types.js';
import type { LabelValues } from '../gen/teleport/legacy/types/wrappers/wrappers.js';
import { formatDuration, parseDuration } from '../model/duration.js';
import { annotationsProblem, MAX_REASON_BYTES, requestSizeProblem } from '../model/limits.js';
import { isRequestId } from '../model/request-id.js';
import { parseResourceId } from '../model/resource-id.js';
import { compilePredicate, type ReviewContext, reviewEnv } from './predicate.js';
import {
  type Catalog,
  canReviewRequest,
  expandOrSkip,
  matchesAny,
  matchRoleExpr,
  normalizeKubeKind,
  type ReviewTarget,
  roleMatchers,
  rolesAllowResource,
  rolesNamed,
  ruleDeniedMessage,
  rulesAllow,
} from './rbac.js';
import { findResource, resourceIdString } from './resources.js';
import type { Caller, KubeResourceMatcher, Resource, Role, StateChange, User } from './types.js';
import { ServerError } from './types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How long a request awaits review by default, and at most. */
export const PENDING_TTL_MS = 7 * DAY;
/** Longest access a request may grant (Teleport's MaxAccessDuration). */
export const MAX_ACCESS_DURATION_MS = 14 * DAY;
/** Teleport's MaxCertDuration, also the default max_session_ttl of a role. */
export const MAX_CERT_DURATION_MS = 30 * HOUR;
/** Latest assume start time after creation (MaxAssumeStartDuration). */
export const MAX_ASSUME_START_MS = 7 * DAY;

const badParameter = (msg: string) => new ServerError(3, msg);
const notFound = (msg: string) => new ServerError(5, msg);
const accessDenied = (msg: string) => new ServerError(7, msg);

/** Go writes unset timestamps as 0001-01-01; both that and undefined mean "unset". */
export function isSet(d: Date | undefined): d is Date {
  return d !== undefined && !Number.isNaN(d.getTime()) && d.getUTCFullYear() > 1;
}

export function stateName(state: RequestState): string {
  return RequestState[state] ?? String(state);
}

export function fromLabelValues(lv: LabelValues | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(lv?.values ?? {})) out[k] = [...(v?.values ?? [])];
  return out;
}

export function toLabelValues(map: Readonly<Record<string, readonly string[]>>): LabelValues {
  return { values: Object.fromEntries(Object.entries(map).map(([k, v]) => [k, { values: [...v] }])) };
}

function dedupe(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/** A time-ordered (version 7) UUID: its first 48 bits are `now` in milliseconds. */
export function uuidv7(now: Date): string {
  const b = randomBytes(16);
  let ms = BigInt(now.getTime());
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function durationOf(s: string | undefined): number {
  if (!s) return 0;
  try {
    return parseDuration(s);
  } catch {
    return 0;
  }
}

/** The roles a request was created with: the rtm keys once an approval narrowed the role list. */
export function originalRoles(req: AccessRequestV3): string[] {
  const spec = req.spec!;
  const rtm = Object.keys(spec.roleThresholdMapping ?? {});
  if (rtm.length === 0 || rtm.length === spec.roles.length) return spec.roles;
  return rtm.sort();
}

function reviewTarget(req: AccessRequestV3): ReviewTarget {
  const spec = req.spec!;
  return {
    user: spec.user,
    roles: originalRoles(req),
    reason: spec.requestReason,
    systemAnnotations: fromLabelValues(spec.systemAnnotations),
  };
}

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

function userOrFail(catalog: Catalog, name: string): User {
  const user = catalog.users.get(name);
  if (!user) throw notFound(`user ${JSON.stringify(name)} is not found`);
  return user;
}

/** `kube_cluster`, or the Kubernetes kind of a resource ID; undefined for other kinds. */
function requestedKubeKind(id: ResourceID): { plural: string; group: string } | 'kube_cluster' | undefined {
  if (id.kind === 'kube_cluster') return 'kube_cluster';
  if (id.kind === 'namespace') return { plural: 'namespaces', group: '' };
  if (!id.kind.startsWith('kube:')) return undefined;
  const rest = id.kind.slice('kube:ns:'.length);
  const dot = rest.indexOf('.');
  return dot < 0 ? { plural: rest, group: '' } : { plural: rest.slice(0, dot), group: rest.slice(dot + 1) };
}

function kubeKindAllowed(
  matchers: readonly KubeResourceMatcher[],
  kind: ReturnType<typeof requestedKubeKind>,
) {
  return matchers.some((m) => {
    if (kind === 'kube_cluster') return m.kind === 'kube_cluster';
    if (kind === undefined || m.kind === 'kube_cluster') return false;
    if (m.kind === '*') return true;
    const want = normalizeKubeKind(m.kind, m.api_group);
    return want.plural === kind.plural && (want.group === undefined || want.group === kind.group);
  });
}

function kindLabel(m: KubeResourceMatcher): string {
  return m.api_group ? `${m.kind}.${m.api_group}` : m.kind;
}

/**
 * Teleport's request.kubernetes_resources check: the roles (keys of the result) that allow
 * requesting every requested Kubernetes kind, and the allowed kinds per role for the error.
 */
function pruneByKubeKinds(v: RequestValidator, ids: readonly ResourceID[], roles: readonly string[]) {
  const kinds = ids.map(requestedKubeKind).filter((k) => k !== undefined);
  if (kinds.length === 0) return { good: [...roles], allowed: new Map<string, string[]>() };
  const good: string[] = [];
  const allowed = new Map<string, string[]>();
  for (const role of roles) {
    const allow = v.kubeAllow.get(role) ?? [];
    if (allow.length === 0 && v.kubeDeny.length === 0) {
      good.push(role);
      continue;
    }
    allowed.set(role, allow.length === 0 ? ['*', 'kube_cluster'] : allow.map(kindLabel));
    const ok = kinds.every(
      (k) => (allow.length === 0 ? true : kubeKindAllowed(allow, k)) && !kubeKindAllowed(v.kubeDeny, k),
    );
    if (ok) good.push(role);
  }
  return { good, allowed };
}

function kubeKindsError(allowed: Map<string, string[]>, requested: boolean): ServerError {
  const list = [...allowed].map(([role, kinds]) => `${role}: [${kinds.join(' ')}]`).join(', ');
  return badParameter(
    `your Teleport role's "request.kubernetes_resources" field did not allow requesting to some or all of the requested Kubernetes resources. allowed kinds for each ${requested ? 'requested' : 'requestable'} roles: ${list}`,
  );
}

interface ResolvedResources {
  ids: ResourceID[];
  resources: Resource[];
}

function resolveResources(catalog: Catalog, user: string, ids: readonly ResourceID[]): ResolvedResources {
  const seen = new Set<string>();
  const out: ResolvedResources = { ids: [], resources: [] };
  const unknownClusters = new Set<string>();
  for (const raw of ids) {
    let id: ResourceID = raw;
    try {
      // Normalize (legacy kube kinds become kube:ns:/kube:cw:) and check the ID's shape.
      const parsed = parseResourceId(resourceIdString(raw));
      id = {
        clusterName: parsed.cluster,
        kind: parsed.kind,
        name: parsed.name,
        subResourceName: parsed.subResource ?? '',
      };
    } catch (err) {
      throw badParameter((err as Error).message);
    }
    if (id.clusterName !== catalog.clusterName) {
      unknownClusters.add(id.clusterName);
      continue;
    }
    const key = resourceIdString(id);
    if (seen.has(key)) continue;
    seen.add(key);
    const resource = findResource(catalog, id);
    if (!resource)
      throw notFound(`resource ${JSON.stringify(key)} not found (requested by user ${JSON.stringify(user)})`);
    out.ids.push(id);
    out.resources.push(resource);
  }
  if (unknownClusters.size > 0) {
    throw notFound(
      `access request contains invalid or unknown cluster names: ${[...unknownClusters].join(', ')}`,
    );
  }
  return out;
}

/** The search_as_roles that grant each resource; refuses a resource no usable role grants. */
function rolesForResources(
  v: RequestValidator,
  resolved: ResolvedResources,
  candidates: readonly string[],
  user: string,
): string[] {
  const roles = rolesNamed(v.catalog, candidates);
  const necessary = new Set<string>();
  resolved.resources.forEach((r, i) => {
    const granting = roles.filter((role) =>
      rolesAllowResource([role], r, v.user.traits, v.catalog.kubeClusterLabels),
    );
    if (granting.length === 0) {
      throw accessDenied(
        `user ${JSON.stringify(user)} can not request resource ${JSON.stringify(resourceIdString(resolved.ids[i]))}`,
      );
    }
    for (const role of granting) necessary.add(role.name);
  });
  return [...necessary].sort();
}

/** The search_as_roles that would grant the resources (GetAccessCapabilities' applicable roles). */
function applicableSearchAsRoles(v: RequestValidator, resolved: ResolvedResources): string[] {
  const { good, allowed } = pruneByKubeKinds(v, resolved.ids, v.usableSearchAsRoles());
  if (good.length === 0) throw kubeKindsError(allowed, false);
  return rolesForResources(v, resolved, good, v.user.name);
}

function validateAssumeStartTime(start: Date, accessExpiry: Date, created: Date): void {
  if (start.getTime() < created.getTime()) {
    throw badParameter(`assume start time has to be after ${rfc3339(created)}`);
  }
  if (start.getTime() >= accessExpiry.getTime()) {
    throw badParameter(`assume start time must be prior to access expiry time at ${rfc3339(accessExpiry)}`);
  }
  const latest = created.getTime() + MAX_ASSUME_START_MS;
  if (latest < accessExpiry.getTime() && start.getTime() > latest) {
    throw badParameter(
      `assume start time is too far in the future, latest time allowed is ${rfc3339(new Date(latest))}`,
    );
  }
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Validates a new request and completes it (see Policy.prepareCreate). `actor` is the caller;
 * `req.spec.user` the requester (defaults to the caller).
 */
export function prepareCreate(
  catalog: Catalog,
  actor: Caller,
  input: AccessRequestV3,
  now: Date,
): AccessRequestV3 {
  const req = AccessRequestV3.fromPartial(input);
  const spec = req.spec ?? AccessRequestV3.fromPartial({ spec: {} }).spec!;
  req.spec = spec;
  const metadata = req.metadata ?? AccessRequestV3.fromPartial({ metadata: {} }).metadata!;
  req.metadata = metadata;
  if (spec.user === '') spec.user = actor.user;
  if (spec.user !== actor.user && !rulesAllow(rolesNamed(catalog, actor.roles), 'access_request', 'create')) {
    throw accessDenied(ruleDeniedMessage('access_request', 'create'));
  }
  const user = userOrFail(catalog, spec.user);

  if (metadata.name === '') metadata.name = uuidv7(now);
  else if (!isRequestId(metadata.name))
    throw badParameter(`invalid access request ID ${JSON.stringify(metadata.name)}`);
  // Teleport's ValidateAccessRequest (reason, resource count) and RequestValidator.Validate
  // (resource ID length), plus our caps on reviewers and labels (src/model/limits.ts).
  const sizeProblem = requestSizeProblem({
    reason: spec.requestReason,
    resourceIds: spec.requestedResourceIds.map(resourceIdString),
    reviewers: spec.suggestedReviewers,
    labels: metadata.labels,
  });
  if (sizeProblem) throw badParameter(sizeProblem);
  spec.roles = dedupe(spec.roles.filter((r) => r !== ''));
  if (spec.roles.length === 0 && spec.requestedResourceIds.length === 0) {
    throw badParameter('access request does not specify any roles or resources');
  }

  const v = new RequestValidator(catalog, user);
  if (spec.roles.length === 1 && spec.roles[0] === '*') {
    const requestable = v.requestableRoles();
    if (requestable.length === 0)
      throw badParameter('no requestable roles, please verify static RBAC configuration');
    spec.roles = requestable;
  }

  const resourceRequest = spec.requestedResourceIds.length > 0;
  let resolved: ResolvedResources = { ids: [], resources: [] };
  if (resourceRequest) {
    resolved = resolveResources(catalog, user.name, spec.requestedResourceIds);
    spec.requestedResourceIds = resolved.ids;
  }

  // Teleport's order: the reason requirement first, then whether each role may be requested.
  if (spec.requestReason.trim() === '') {
    const roles = resourceRequest ? [...spec.roles, ...applicableSearchAsRoles(v, resolved)] : spec.roles;
    const why = v.reasonRequirement(roles);
    if (why) throw badParameter(v.prompt ? `${why}; prompt: ${v.prompt}` : why);
  }

  for (const role of spec.roles) {
    const allowed = resourceRequest ? v.canSearchAsRole(role) : v.canRequestRole(role);
    if (!allowed)
      throw badParameter(`user ${JSON.stringify(user.name)} can not request role ${JSON.stringify(role)}`);
    if (!catalog.roles.has(role)) throw notFound(`role ${JSON.stringify(role)} is not found`);
  }

  if (resourceRequest) {
    if (spec.roles.length === 0) {
      spec.roles = applicableSearchAsRoles(v, resolved);
    } else {
      const { good, allowed } = pruneByKubeKinds(v, resolved.ids, spec.roles);
      if (good.length !== spec.roles.length) throw kubeKindsError(allowed, true);
      rolesForResources(v, resolved, spec.roles, user.name);
    }
  }
  spec.roles = dedupe(spec.roles).sort();

  const { thresholds, rtm } = v.thresholds(spec.roles);
  spec.thresholds = thresholds;
  spec.roleThresholdMapping = rtm;
  spec.systemAnnotations = toLabelValues(v.systemAnnotations(spec.roles, resourceRequest));
  spec.suggestedReviewers = dedupe([
    ...spec.suggestedReviewers.filter((r) => r !== ''),
    ...v.suggestedReviewers,
  ]);

  setExpiries(catalog, v, actor, spec, metadata, now);
  // Only a dry run carries the enrichment; a client cannot store one.
  spec.dryRunEnrichment = spec.dryRun ? v.dryRunEnrichment(spec.roles) : undefined;

  spec.state = RequestState.PENDING;
  spec.created = now;
  spec.reviews = [];
  spec.resolveReason = '';
  spec.resolveAnnotations = undefined;
  req.kind = 'access_request';
  req.version = 'v3';
  if (metadata.namespace === '') metadata.namespace = 'default';
  return req;
}

function setExpiries(
  catalog: Catalog,
  v: RequestValidator,
  actor: Caller,
  spec: NonNullable<AccessRequestV3['spec']>,
  metadata: NonNullable<AccessRequestV3['metadata']>,
  now: Date,
): void {
  const t = now.getTime();
  const requestedAccess = isSet(spec.expires) ? spec.expires.getTime() - t : undefined;

  // Session TTL: the caller's certificate, the requested access expiry and every requested
  // role's max_session_ttl, strictest first (Teleport's truncateTTL).
  let sessionTTL = MAX_CERT_DURATION_MS;
  const identityTTL = actor.expires.getTime() - t;
  if (identityTTL > 0 && identityTTL < sessionTTL) sessionTTL = identityTTL;
  if (requestedAccess !== undefined && requestedAccess > 0 && requestedAccess < sessionTTL)
    sessionTTL = requestedAccess;
  for (const role of rolesNamed(catalog, spec.roles)) {
    const ttl = durationOf(role.options.max_session_ttl);
    if (ttl > 0 && ttl < sessionTTL) sessionTTL = ttl;
  }
  if (requestedAccess !== undefined && requestedAccess > sessionTTL) {
    throw badParameter(
      `invalid session TTL: ${formatDuration(requestedAccess)} greater than maximum allowed (${formatDuration(sessionTTL)})`,
    );
  }

  // Max duration (Teleport's calculateMaxAccessDuration).
  const maxDurationSet = isSet(spec.maxDuration);
  let requestedMax = maxDurationSet ? spec.maxDuration!.getTime() - t : 0;
  if (spec.dryRun) requestedMax = MAX_ACCESS_DURATION_MS;
  else if (maxDurationSet && requestedMax < 0) {
    throw badParameter('invalid maxDuration: must be greater than creation time');
  }
  if (requestedMax > MAX_ACCESS_DURATION_MS) {
    throw badParameter(
      `max_duration must be less than or equal to ${formatDuration(MAX_ACCESS_DURATION_MS)}`,
    );
  }
  let minAdj = 0;
  for (const role of spec.roles) {
    const ms = v.maxDurationForRole(role);
    if (minAdj === 0 || ms < minAdj) minAdj = ms;
  }
  if (maxDurationSet && requestedMax < minAdj) minAdj = requestedMax;
  const maxDuration = minAdj === 0 && requestedMax < sessionTTL ? requestedMax : minAdj;

  let accessDuration: number;
  if (maxDuration > 0) {
    spec.sessionTtl = new Date(t + Math.min(sessionTTL, maxDuration));
    accessDuration = maxDuration;
  } else {
    spec.sessionTtl = new Date(t + sessionTTL);
    accessDuration = sessionTTL;
  }
  const accessExpiry = new Date(t + accessDuration);
  spec.maxDuration = accessExpiry;
  spec.expires = accessExpiry;

  // How long the request awaits review (Teleport's calculatePendingRequestTTL).
  const requestedPending = isSet(spec.resourceExpiry)
    ? spec.resourceExpiry
    : isSet(metadata.expires)
      ? metadata.expires
      : undefined;
  let pending: number;
  if (!requestedPending) {
    pending = Math.min(PENDING_TTL_MS, accessDuration);
  } else {
    pending = requestedPending.getTime() - t;
    if (pending < 0) throw badParameter('invalid request TTL: Access Request can not be created in the past');
    for (const limit of [PENDING_TTL_MS, accessDuration]) {
      if (pending > limit) {
        throw badParameter(
          `invalid request TTL: ${formatDuration(pending)} greater than maximum allowed (${formatDuration(limit)})`,
        );
      }
    }
  }
  metadata.expires = new Date(t + pending);
  spec.resourceExpiry = metadata.expires;

  if (isSet(spec.assumeStartTime)) validateAssumeStartTime(spec.assumeStartTime, accessExpiry, now);
  else spec.assumeStartTime = undefined;
}

/** The reviewer as the policy sees it: its seeded (static) roles and traits, else its certificate's. */
function staticUser(catalog: Catalog, caller: Caller): User {
  return catalog.users.get(caller.user) ?? { name: caller.user, roles: caller.roles, traits: caller.traits };
}

/** Whether the caller's static roles allow reviewing the request (Teleport's CanReviewRequest). */
export function canReview(catalog: Catalog, caller: Caller, req: AccessRequestV3): boolean {
  const user = staticUser(catalog, caller);
  return canReviewRequest(user, rolesNamed(catalog, user.roles), reviewTarget(req));
}

/** Own requests, requests the caller can review, or all with both `list` and `read` rules. */
export function canSee(catalog: Catalog, caller: Caller, req: AccessRequestV3): boolean {
  if (req.spec?.user === caller.user) return true;
  const roles = rolesNamed(catalog, caller.roles);
  if (rulesAllow(roles, 'access_request', 'list') && rulesAllow(roles, 'access_request', 'read')) return true;
  return canReview(catalog, caller, req);
}

const thresholdFilterCache = new Map<string, ((ctx: ReviewContext) => boolean) | null>();

function thresholdMatches(filter: string, ctx: ReviewContext): boolean {
  if (filter === '') return true;
  let fn = thresholdFilterCache.get(filter);
  if (fn === undefined) {
    try {
      fn = compilePredicate(filter, reviewEnv(true));
    } catch {
      fn = null;
    }
    thresholdFilterCache.set(filter, fn);
  }
  return fn ? fn(ctx) : false;
}

/**
 * Teleport's calculateReviewBasedResolution: reviews are counted in order against every
 * threshold they matched; any deny threshold reached denies; a role is approved when each of
 * its threshold sets has one threshold whose approvals are reached; the request is approved
 * when every role is.
 */
function resolution(
  spec: NonNullable<AccessRequestV3['spec']>,
): { state: RequestState; reason: string } | undefined {
  const { thresholds, reviews } = spec;
  if (thresholds.length === 0 || reviews.length === 0) return undefined;
  const approvals = thresholds.map(() => 0);
  const denials = thresholds.map(() => 0);
  const approved = new Set<string>();
  const roles = Object.entries(spec.roleThresholdMapping);
  for (const rev of reviews) {
    for (const i of rev.thresholdIndexes) {
      if (rev.proposedState === RequestState.APPROVED) approvals[i] += 1;
      else if (rev.proposedState === RequestState.DENIED) denials[i] += 1;
    }
    if (thresholds.some((t, i) => t.deny !== 0 && denials[i] >= t.deny)) {
      return rev.proposedState === RequestState.DENIED
        ? { state: RequestState.DENIED, reason: rev.reason }
        : undefined;
    }
    for (const [role, { sets }] of roles) {
      const met = sets.every((set) =>
        set.indexes.some((i) => thresholds[i].approve !== 0 && approvals[i] >= thresholds[i].approve),
      );
      if (met) approved.add(role);
    }
    if (approved.size === roles.length) {
      return rev.proposedState === RequestState.APPROVED
        ? { state: RequestState.APPROVED, reason: rev.reason }
        : undefined;
    }
  }
  return undefined;
}

/** Applies a review (see Policy.applyReview). */
export function applyReview(
  catalog: Catalog,
  author: Caller,
  input: AccessRequestV3,
  review: AccessReview,
  now: Date,
): AccessRequestV3 {
  const req = AccessRequestV3.fromPartial(input);
  const spec = req.spec!;
  const id = req.metadata?.name ?? '';
  if (review.proposedState !== RequestState.APPROVED && review.proposedState !== RequestState.DENIED) {
    throw badParameter(
      `invalid state proposal: ${stateName(review.proposedState)} (expected approval/denial)`,
    );
  }
  if (Buffer.byteLength(review.reason, 'utf8') > MAX_REASON_BYTES) {
    throw badParameter(`access review reason is too long, max ${MAX_REASON_BYTES} bytes`);
  }
  if (!canReview(catalog, author, req)) {
    const own = author.user === spec.user ? ': requester and reviewer must be different users' : '';
    throw accessDenied(
      `user ${JSON.stringify(author.user)} cannot review request ${JSON.stringify(id)}${own}`,
    );
  }
  if (spec.thresholds.length === 0)
    throw badParameter('request is uninitialized or does not support reviews');
  if (spec.reviews.some((r) => r.author === author.user)) {
    throw accessDenied(`user ${JSON.stringify(author.user)} has already reviewed this request`);
  }
  const rtm = spec.roleThresholdMapping;
  const reviewRoles = dedupe(review.roles).sort();
  for (const role of reviewRoles) {
    if (!Object.hasOwn(rtm, role))
      throw badParameter(`role ${JSON.stringify(role)} is not a member of this request`);
  }
  if (reviewRoles.length !== 0 && reviewRoles.length !== Object.keys(rtm).length) {
    throw new ServerError(12, 'role subselection is not yet supported in reviews, try omitting role list');
  }
  const annotations = fromLabelValues(review.annotations);
  if (Object.keys(annotations).length !== 0) {
    throw new ServerError(12, 'annotations are not yet supported in reviews, try omitting annotations field');
  }
  if (spec.state !== RequestState.PENDING) {
    throw accessDenied(`the access request has been already ${stateName(spec.state).toLowerCase()}`);
  }

  const reviewer = staticUser(catalog, author);
  const ctx: ReviewContext = {
    reviewer: { roles: reviewer.roles, traits: reviewer.traits },
    review: { reason: review.reason, annotations },
    request: {
      roles: originalRoles(req),
      reason: spec.requestReason,
      systemAnnotations: fromLabelValues(spec.systemAnnotations),
    },
  };
  const indexes = spec.thresholds.flatMap((t, i) => (thresholdMatches(t.filter, ctx) ? [i] : []));
  const stored: AccessReview = {
    author: author.user,
    roles: reviewRoles,
    proposedState: review.proposedState,
    reason: review.reason,
    created: isSet(review.created) ? review.created : now,
    annotations: review.annotations,
    thresholdIndexes: indexes,
    accessList: review.accessList,
    assumeStartTime: isSet(review.assumeStartTime) ? review.assumeStartTime : undefined,
  };
  spec.reviews = [...spec.reviews, stored];
  if (stored.assumeStartTime) {
    validateAssumeStartTime(stored.assumeStartTime, spec.expires ?? now, spec.created ?? now);
    spec.assumeStartTime = stored.assumeStartTime;
  }
  const outcome = resolution(spec);
  if (outcome) {
    spec.state = outcome.state;
    spec.resolveReason = outcome.reason;
    markResolved(req);
  }
  return req;
}

/** A resolved request lives until its access expires (Teleport sets the resource expiry so). */
function markResolved(req: AccessRequestV3): void {
  const spec = req.spec!;
  if (isSet(spec.expires)) {
    req.metadata = { ...req.metadata!, expires: spec.expires };
    spec.resourceExpiry = spec.expires;
  }
}

/** Resolve annotation key that records who a SetAccessRequestState was delegated by. */
export const DELEGATOR_ANNOTATION = 'delegator';

/** Applies SetAccessRequestState (see Policy.applyState). */
export function applyState(input: AccessRequestV3, change: StateChange, now: Date): AccessRequestV3 {
  const req = AccessRequestV3.fromPartial(input);
  const spec = req.spec!;
  const target = change.state as RequestState;
  if (target === RequestState.NONE) throw badParameter('missing request state');
  if (change.roles.length > 0 && target !== RequestState.APPROVED) {
    throw badParameter(`cannot override roles when setting state: ${stateName(target)}`);
  }
  if (Buffer.byteLength(change.reason, 'utf8') > MAX_REASON_BYTES) {
    throw badParameter(`access request resolve reason is too long, max ${MAX_REASON_BYTES} bytes`);
  }
  const annotationProblem = annotationsProblem(change.annotations);
  if (annotationProblem) throw badParameter(annotationProblem);
  if (target === RequestState.PENDING || !(target in RequestState)) {
    throw badParameter(`cannot set request-state ${JSON.stringify(stateName(target))}`);
  }
  if (spec.state === RequestState.DENIED && target !== RequestState.DENIED) {
    throw badParameter(`cannot set request-state ${JSON.stringify(stateName(target))} (already denied)`);
  }
  if (spec.state === RequestState.PROMOTED && target !== RequestState.PROMOTED) {
    throw badParameter(`cannot set request-state ${JSON.stringify(stateName(target))} (already promoted)`);
  }
  if (
    target === RequestState.PROMOTED &&
    spec.state !== RequestState.PENDING &&
    spec.state !== RequestState.PROMOTED
  ) {
    throw badParameter(
      `cannot set request-state "PROMOTED" (already ${stateName(spec.state).toLowerCase()})`,
    );
  }
  if (change.roles.length > 0) {
    for (const role of change.roles) {
      if (!spec.roles.includes(role)) {
        throw badParameter(
          `role ${JSON.stringify(role)} not in original request, overrides must be a subset of original role list`,
        );
      }
    }
    spec.roles = dedupe(change.roles).sort();
  }
  if (change.assumeStartTime && isSet(change.assumeStartTime)) {
    validateAssumeStartTime(change.assumeStartTime, spec.expires ?? now, spec.created ?? now);
    spec.assumeStartTime = change.assumeStartTime;
  }
  const annotations: Record<string, string[]> = { ...change.annotations };
  if (change.delegator !== '' && !Object.hasOwn(annotations, DELEGATOR_ANNOTATION)) {
    annotations[DELEGATOR_ANNOTATION] = [change.delegator];
  }
  spec.state = target;
  spec.resolveReason = change.reason;
  spec.resolveAnnotations = toLabelValues(annotations);
  if (target === RequestState.APPROVED) markResolved(req);
  return req;
}

/** GetAccessCapabilities (see Policy.capabilities). */
export function capabilities(
  catalog: Catalog,
  caller: Caller,
  query: { user: string; requestableRoles: boolean; suggestedReviewers: boolean; resourceIds: string[] },
): AccessCapabilities {
  const name = query.user || caller.user;
  if (name !== caller.user && !rulesAllow(rolesNamed(catalog, caller.roles), 'user', 'read')) {
    throw accessDenied(ruleDeniedMessage('user', 'read'));
  }
  const v = new RequestValidator(catalog, userOrFail(catalog, name));
  const caps: AccessCapabilities = {
    requestableRoles: [],
    suggestedReviewers: [],
    applicableRolesForResources: [],
    requestPrompt: v.prompt,
    requireReason: false,
    autoRequest: v.autoRequest,
  };
  if (query.resourceIds.length > 0) {
    const ids = query.resourceIds.map((s) => {
      try {
        const p = parseResourceId(s);
        return { clusterName: p.cluster, kind: p.kind, name: p.name, subResourceName: p.subResource ?? '' };
      } catch (err) {
        throw badParameter((err as Error).message);
      }
    });
    caps.applicableRolesForResources = applicableSearchAsRoles(v, resolveResources(catalog, name, ids));
  }
  if (query.requestableRoles) caps.requestableRoles = v.requestableRoles();
  if (query.suggestedReviewers) caps.suggestedReviewers = dedupe(v.suggestedReviewers);
  const reasonRoles = query.requestableRoles ? caps.requestableRoles : caps.applicableRolesForResources;
  caps.requireReason = v.reasonRequirement(reasonRoles) !== undefined;
  return caps;
}

/** The JSON resource-ID strings a certificate carries for an approved resource request. */
export function allowedResourceIdsOf(req: AccessRequestV3): string[] {
  return (req.spec?.requestedResourceIds ?? []).map(resourceIdString);
}

/** Checks that a request may be assumed by `user` at `now` (approved, own, started, unexpired). */
export function checkAssumable(req: AccessRequestV3, user: string, now: Date): void {
  const spec = req.spec!;
  const id = req.metadata?.name ?? '';
  if (spec.user !== user)
    throw accessDenied(
      `access request ${JSON.stringify(id)} does not belong to user ${JSON.stringify(user)}`,
    );
  if (spec.state === RequestState.DENIED)
    throw accessDenied(`access request ${JSON.stringify(id)} has been denied`);
  if (spec.state !== RequestState.APPROVED)
    throw accessDenied(`access request ${JSON.stringify(id)} is awaiting approval`);
  if (isSet(spec.assumeStartTime) && spec.assumeStartTime.getTime() > now.getTime()) {
    throw accessDenied(
      `access request ${JSON.stringify(id)} can not be assumed until ${rfc3339(spec.assumeStartTime)}`,
    );
  }
  if (isSet(spec.expires) && spec.expires.getTime() <= now.getTime()) {
    throw accessDenied(`access request ${JSON.stringify(id)} has expired`);
  }
}
