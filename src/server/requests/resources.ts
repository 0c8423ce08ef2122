/**
 * Resource access requests: resolving the requested resource IDs, the search_as_roles that
 * grant them, and the request.kubernetes_resources check (Teleport's RequestValidator).
 */
import type { ResourceID } from '../../gen/teleport/legacy/types/types.js';
import { parseResourceId } from '../../model/resource-id.js';
import { type Catalog, rolesNamed } from '../rbac.js';
import { normalizeKubeKind, rolesAllowResource } from '../resource-access.js';
import { findResource, resourceIdString } from '../resources.js';
import type { KubeResourceMatcher, Resource } from '../types.js';
import { accessDenied, badParameter, notFound, type ServerError } from '../types.js';
import type { RequestValidator } from './validator.js';

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
export function pruneByKubeKinds(v: RequestValidator, ids: readonly ResourceID[], roles: readonly string[]) {
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

export function kubeKindsError(allowed: Map<string, string[]>, requested: boolean): ServerError {
  const list = [...allowed].map(([role, kinds]) => `${role}: [${kinds.join(' ')}]`).join(', ');
  return badParameter(
    `your Teleport role's "request.kubernetes_resources" field did not allow requesting to some or all of the requested Kubernetes resources. allowed kinds for each ${requested ? 'requested' : 'requestable'} roles: ${list}`,
  );
}

export interface ResolvedResources {
  ids: ResourceID[];
  resources: Resource[];
}

export function resolveResources(
  catalog: Catalog,
  user: string,
  ids: readonly ResourceID[],
): ResolvedResources {
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
export function rolesForResources(
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
export function applicableSearchAsRoles(v: RequestValidator, resolved: ResolvedResources): string[] {
  const { good, allowed } = pruneByKubeKinds(v, resolved.ids, v.usableSearchAsRoles());
  if (good.length === 0) throw kubeKindsError(allowed, false);
  return rolesForResources(v, resolved, good, v.user.name);
}
