/**
 * Requestable resources: their Teleport resource IDs, lookup by ID, and ListResources'
 * search (role-based visibility, search_as_roles, keywords, exact labels, predicates and the
 * Kubernetes filters).
 */

import type { ResourceID } from '../gen/teleport/legacy/types/types.js';
import { PredicateError } from '../model/predicate/parse.js';
import { type KubeKind, kubeKindString, LEGACY_KUBE_KINDS, parseKubeKind } from '../model/resource-id.js';
import { checkIdentityCenterListRule, isIdentityCenterKind } from './identity-center.js';
import { type Catalog, rolesNamed, rulesAllow } from './rbac.js';
import { normalizeKubeKind, rolesAllowResource } from './resource-access.js';
import { compileResourcePredicate, matchesKeywords } from './resource-predicate.js';
import { matchesAny, roleMatchers } from './role-matchers.js';
import type { Traits } from './traits.js';
import { badParameter, type Caller, type Resource, type ResourceQuery, type Role } from './types.js';

const CLUSTER_WIDE_PLURALS = new Set([
  'namespaces',
  ...Object.values(LEGACY_KUBE_KINDS)
    .filter((k) => !k.namespaced)
    .map((k) => k.plural),
]);

const SAML_SP = 'saml_idp_service_provider';

function kubeKindOf(r: Resource): KubeKind {
  return { plural: r.kubeKind ?? '', apiGroup: r.apiGroup ?? '', namespaced: r.namespace !== undefined };
}

/** The Teleport ResourceID of a resource (Kubernetes objects in the v18 `kube:ns:`/`kube:cw:` form). */
export function resourceIdOf(r: Resource, clusterName: string): ResourceID {
  if (r.kind !== 'kube_resource') {
    return { clusterName, kind: r.kind, name: r.name, subResourceName: '' };
  }
  return {
    clusterName,
    kind: kubeKindString(kubeKindOf(r)),
    name: r.kubeCluster ?? '',
    subResourceName: r.namespace !== undefined ? `${r.namespace}/${r.name}` : r.name,
  };
}

/** `/<cluster>/<kind>/<name>[/<sub-resource>]`. */
export function resourceIdString(id: ResourceID): string {
  const base = `/${id.clusterName}/${id.kind}/${id.name}`;
  return id.subResourceName ? `${base}/${id.subResourceName}` : base;
}

/**
 * The Kubernetes kind named by a resource ID kind (`kube:ns:pods`, `kube:cw:namespaces`,
 * legacy `pod`, `namespace`), or undefined for other kinds.
 */
function kubeKindOfId(kind: string): { plural: string; group: string } | undefined {
  const parsed = parseKubeKind(kind);
  if (parsed) return { plural: parsed.plural, group: parsed.apiGroup === 'core' ? '' : parsed.apiGroup };
  if (kind === 'namespace' || Object.hasOwn(LEGACY_KUBE_KINDS, kind)) {
    const k = normalizeKubeKind(kind);
    return { plural: k.plural, group: k.group ?? '' };
  }
  return undefined;
}

/** The seeded resource an ID names (cluster name not checked), or undefined. */
export function findResource(catalog: Catalog, id: ResourceID): Resource | undefined {
  const kube = kubeKindOfId(id.kind);
  if (!kube) return catalog.resources.find((r) => r.kind === id.kind && r.name === id.name);
  const clusterWide = CLUSTER_WIDE_PLURALS.has(kube.plural);
  const sub = id.subResourceName.split('/');
  const [namespace, name] = clusterWide ? [undefined, id.subResourceName] : [sub[0], sub.slice(1).join('/')];
  return catalog.resources.find(
    (r) =>
      r.kind === 'kube_resource' &&
      r.kubeCluster === id.name &&
      r.kubeKind === kube.plural &&
      (r.apiGroup ?? '') === kube.group &&
      r.namespace === namespace &&
      r.name === name,
  );
}

/**
 * The search_as_roles the roles allow (and do not deny): Teleport's CanSearchAsRole over the
 * union of `allow.request.search_as_roles`.
 */
export function allowedSearchAsRoles(roles: readonly Role[], traits: Traits): string[] {
  const denySearch = new Set(roles.flatMap((r) => r.deny.request?.search_as_roles ?? []));
  const denyRequest = roles.flatMap((r) => roleMatchers(r.deny.request, traits));
  const out: string[] = [];
  for (const role of roles) {
    for (const name of role.allow.request?.search_as_roles ?? []) {
      if (out.includes(name) || denySearch.has(name) || matchesAny(denyRequest, name)) continue;
      out.push(name);
    }
  }
  return out;
}

/** Whether a resource is one of (or, for a Kubernetes cluster, contains one of) the allowed IDs. */
function inAllowedIds(catalog: Catalog, r: Resource, allowed: readonly string[]): boolean {
  const own = resourceIdString(resourceIdOf(r, catalog.clusterName));
  if (allowed.includes(own)) return true;
  if (r.kind === 'kube_resource') {
    const cluster = `/${catalog.clusterName}/kube_cluster/${r.kubeCluster}`;
    return allowed.includes(cluster);
  }
  if (r.kind === 'kube_cluster') {
    return catalog.resources.some(
      (k) =>
        k.kind === 'kube_resource' &&
        k.kubeCluster === r.name &&
        allowed.includes(resourceIdString(resourceIdOf(k, catalog.clusterName))),
    );
  }
  return false;
}

function normalizeQueryKubeKind(kind: string): { plural: string; group?: string } {
  const fromId = kubeKindOfId(kind);
  if (fromId) return fromId;
  return normalizeKubeKind(kind);
}

function sortKey(r: Resource): string {
  return [r.kubeCluster ?? '', r.namespace ?? '', r.hostname ?? '', r.name].join('\u0000');
}

/**
 * Resources of `query.kind` the caller may access with its certificate roles (restricted to
 * its allowed resource IDs, when the certificate carries any) or, with `useSearchAsRoles`,
 * may access or request through the search_as_roles of its roles; then narrowed by the
 * Kubernetes filters, exact labels, keywords and the predicate. Sorted by name.
 * Throws ServerError 3 for an unsupported predicate.
 */
export function searchResources(catalog: Catalog, caller: Caller, query: ResourceQuery): Resource[] {
  let predicate: ((r: Resource) => boolean) | undefined;
  if (query.predicate.trim() !== '') {
    try {
      predicate = compileResourcePredicate(query.predicate);
    } catch (err) {
      if (err instanceof PredicateError) throw badParameter(`${err.message} in predicate`);
      throw err;
    }
  }
  const own = rolesNamed(catalog, caller.roles);
  const roles = query.useSearchAsRoles
    ? rolesNamed(catalog, [...caller.roles, ...allowedSearchAsRoles(own, caller.traits)])
    : own;
  // lib/auth/auth_with_roles.go: ServerWithRoles.listResourcesWithSort lists SAML IdP service
  // providers only when the (search-extended) roles allow `list` on saml_idp_service_provider
  // (api/types/role.go: GetLabelMatchers: "app_labels and verbs" both control access).
  if (query.kind === 'saml_idp_service_provider' && !rulesAllow(roles, SAML_SP, 'list')) return [];
  if (isIdentityCenterKind(query.kind)) checkIdentityCenterListRule(roles, query.kind);
  const restrict = !query.useSearchAsRoles && caller.allowedResourceIds.length > 0;
  const kubeKind = query.kubeKind ? normalizeQueryKubeKind(query.kubeKind) : undefined;

  return catalog.resources
    .filter((r) => {
      if (r.kind !== query.kind) return false;
      if (r.kind === 'kube_resource') {
        if (query.kubeCluster && r.kubeCluster !== query.kubeCluster) return false;
        if (query.namespace && r.namespace !== query.namespace) return false;
        if (kubeKind) {
          if (r.kubeKind !== kubeKind.plural) return false;
          if (kubeKind.group !== undefined && (r.apiGroup ?? '') !== kubeKind.group) return false;
        }
      }
      if (!rolesAllowResource(roles, r, caller.traits, catalog.kubeClusterLabels)) return false;
      if (restrict && !inAllowedIds(catalog, r, caller.allowedResourceIds)) return false;
      if (Object.entries(query.labels).some(([k, v]) => r.labels[k] !== v)) return false;
      if (!matchesKeywords(r, query.keywords)) return false;
      return predicate ? predicate(r) : true;
    })
    .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}
