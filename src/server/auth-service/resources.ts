/**
 * ListResources and ListUnifiedResources of AuthService: the seed's resources the caller may
 * see (or request), filtered, sorted and paged.
 */

import type {
  ListResourcesRequest,
  ListUnifiedResourcesRequest,
} from '../../gen/teleport/legacy/client/proto/authservice.js';
import type { SortBy } from '../../gen/teleport/legacy/types/types.js';
import { unary } from '../grpc/handlers.js';
import { listResourcesLimit, pageLimit, paginate } from '../grpc/paging.js';
import { toPaginated } from '../grpc/shape.js';
import type { AuthServiceServer } from '../grpc-definitions.js';
import { IC_LIST_RESOURCE_TYPES } from '../identity-center.js';
import type { ServiceDeps } from '../service.js';
import { badParameter, type Caller, type Resource, type ResourceKind } from '../types.js';
import { loginsFor } from './certs.js';

/** ListResources resource types and the seed kinds they show. */
const LIST_RESOURCE_TYPES: Record<string, ResourceKind> = {
  node: 'node',
  db_server: 'db',
  db: 'db',
  app_server: 'app',
  app: 'app',
  kube_cluster: 'kube_cluster',
  kube_server: 'kube_cluster',
  windows_desktop: 'windows_desktop',
  // lib/auth/auth_with_roles.go: ServerWithRoles.listResourcesWithSort lists both.
  user_group: 'user_group',
  saml_idp_service_provider: 'saml_idp_service_provider',
  ...IC_LIST_RESOURCE_TYPES,
};

/** ListUnifiedResources kinds (Teleport's unified kinds, plus the server kinds as aliases). */
const UNIFIED_KINDS: Record<string, ResourceKind> = {
  node: 'node',
  db: 'db',
  db_server: 'db',
  app: 'app',
  app_server: 'app',
  kube_cluster: 'kube_cluster',
  kube_server: 'kube_cluster',
  windows_desktop: 'windows_desktop',
};
const DEFAULT_UNIFIED: ResourceKind[] = ['node', 'app', 'db', 'kube_cluster', 'windows_desktop'];

type SortValue = string;

function resourceSortValue(r: Resource, sortBy: SortBy | undefined): SortValue {
  switch (sortBy?.field) {
    case 'hostname':
      return (r.hostname ?? r.name).toLowerCase();
    case 'kind':
      return r.kind;
    default:
      return r.name.toLowerCase();
  }
}

/** ListResources and ListUnifiedResources. */
export function resourceHandlers(deps: ServiceDeps) {
  const { policy } = deps;

  const resourceQuery = (
    caller: Caller,
    kind: ResourceKind,
    req: {
      useSearchAsRoles: boolean;
      searchKeywords: string[];
      labels: Record<string, string>;
      predicateExpression: string;
    },
  ) =>
    policy.searchResources(caller, {
      kind,
      useSearchAsRoles: req.useSearchAsRoles,
      keywords: req.searchKeywords.filter((k) => k !== ''),
      labels: req.labels,
      predicate: req.predicateExpression,
    });

  const listResources = unary(deps, (req: ListResourcesRequest, caller) => {
    const kind = LIST_RESOURCE_TYPES[req.resourceType];
    if (!kind) throw badParameter(`resource type "${req.resourceType}" is not supported by ListResources`);
    const limit = listResourcesLimit(req.limit);
    let found = resourceQuery(caller, kind, req);
    const desktopName = req.windowsDesktopFilter?.name;
    if (kind === 'windows_desktop' && desktopName) found = found.filter((r) => r.name === desktopName);
    const { page, nextKey } = paginate(found, (r) => [resourceSortValue(r, req.sortBy), r.name], {
      descending: req.sortBy?.isDesc ?? false,
      limit,
      startKey: req.startKey,
    });
    return {
      resources: page.map((r) => ({
        resource: toPaginated(r, req.resourceType),
        logins: req.includeLogins && r.kind === 'node' ? loginsFor(policy, caller.roles, caller.traits) : [],
        requiresRequest: false,
      })),
      nextKey,
      totalCount: req.needTotalCount ? found.length : 0,
    };
  });

  const listUnifiedResources = unary(deps, (req: ListUnifiedResourcesRequest, caller) => {
    const kinds: ResourceKind[] = [];
    for (const k of req.kinds.length > 0 ? req.kinds : DEFAULT_UNIFIED) {
      const kind = UNIFIED_KINDS[k];
      if (!kind) throw badParameter(`resource kind "${k}" is not supported by ListUnifiedResources`);
      if (!kinds.includes(kind)) kinds.push(kind);
    }
    if (req.pinnedOnly) return { resources: [], nextKey: '' };
    const found: { r: Resource; requiresRequest: boolean }[] = [];
    for (const kind of kinds) {
      if (req.includeRequestable) {
        const direct = new Set(
          resourceQuery(caller, kind, { ...req, useSearchAsRoles: false }).map((r) => r.name),
        );
        for (const r of resourceQuery(caller, kind, { ...req, useSearchAsRoles: true })) {
          found.push({ r, requiresRequest: !direct.has(r.name) });
        }
      } else {
        for (const r of resourceQuery(caller, kind, req)) found.push({ r, requiresRequest: false });
      }
    }
    const { page, nextKey } = paginate(
      found,
      (f) => [resourceSortValue(f.r, req.sortBy), f.r.kind, f.r.name],
      {
        descending: req.sortBy?.isDesc ?? false,
        limit: pageLimit(req.limit),
        startKey: req.startKey,
      },
    );
    return {
      resources: page.map((f) => ({
        resource: toPaginated(f.r, f.r.kind),
        logins:
          req.includeLogins && f.r.kind === 'node' ? loginsFor(policy, caller.roles, caller.traits) : [],
        requiresRequest: f.requiresRequest,
      })),
      nextKey,
    };
  });

  return {
    listResources,
    listUnifiedResources,
  } satisfies Partial<AuthServiceServer>;
}
