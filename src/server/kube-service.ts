/**
 * `teleport.kube.v1.KubeService/ListKubernetesResources`: the Kubernetes objects (pods,
 * deployments, …) of one cluster a caller may see or request, as Teleport's kube service
 * lists them for `tsh request search --kind pod`.
 */

import type {
  ListKubernetesResourcesRequest,
  ListKubernetesResourcesResponse,
} from '../gen/teleport/kube/v1/kube_service.js';
import type { KubernetesResourceV1 } from '../gen/teleport/legacy/types/types.js';
import { LEGACY_KUBE_KINDS, parseKubeKind } from '../model/resource-id.js';
import { unary } from './grpc/handlers.js';
import { pageLimit, paginate } from './grpc/paging.js';
import { metadata } from './grpc/shape.js';
import type { KubeServiceServer } from './grpc-definitions.js';
import type { ServiceDeps } from './service.js';
import { badParameter, type Resource } from './types.js';

/** A requested kind: the plural and, when the request pinned one, the API group. */
export interface KubeKindQuery {
  plural: string;
  apiGroup?: string;
}

/**
 * Reads `resource_type` in any of the spellings clients send: `kube:ns:deployments.apps`,
 * legacy `pod`, or a bare plural with an optional group (`pods`, `deployments.apps`).
 */
export function parseKubeResourceType(resourceType: string): KubeKindQuery {
  const t = resourceType.trim();
  if (t === '') throw badParameter('missing Kubernetes resource type');
  if (t.startsWith('kube:')) {
    const k = parseKubeKind(t);
    if (!k) throw badParameter(`malformed Kubernetes resource type "${resourceType}"`);
    return { plural: k.plural, apiGroup: k.apiGroup === 'core' ? '' : k.apiGroup };
  }
  if (t === 'namespace') return { plural: 'namespaces', apiGroup: '' };
  if (Object.hasOwn(LEGACY_KUBE_KINDS, t)) {
    const k = LEGACY_KUBE_KINDS[t];
    return { plural: k.plural, apiGroup: k.apiGroup };
  }
  const dot = t.indexOf('.');
  return dot < 0 ? { plural: t } : { plural: t.slice(0, dot), apiGroup: t.slice(dot + 1) };
}

function toKubernetesResource(r: Resource): KubernetesResourceV1 {
  return {
    kind: r.kubeKind ?? '',
    subKind: '',
    version: 'v1',
    metadata: metadata(r.name, { labels: { ...r.labels } }),
    spec: { namespace: r.namespace ?? '' },
  };
}

/** Builds the KubeService handlers. */
export function createKubeService(deps: ServiceDeps): KubeServiceServer {
  const listKubernetesResources = unary<ListKubernetesResourcesRequest, ListKubernetesResourcesResponse>(
    deps,
    (req, caller) => {
      if (!req.kubernetesCluster) throw badParameter('missing Kubernetes cluster');
      const kind = parseKubeResourceType(req.resourceType);
      const found = deps.policy
        .searchResources(caller, {
          kind: 'kube_resource',
          useSearchAsRoles: req.useSearchAsRoles,
          keywords: req.searchKeywords.filter((k) => k !== ''),
          labels: req.labels,
          predicate: req.predicateExpression,
          kubeCluster: req.kubernetesCluster,
          namespace: req.kubernetesNamespace || undefined,
          kubeKind: kind.plural,
        })
        .filter(
          (r) =>
            r.kubeCluster === req.kubernetesCluster &&
            r.kubeKind === kind.plural &&
            (kind.apiGroup === undefined || (r.apiGroup ?? '') === kind.apiGroup) &&
            (!req.kubernetesNamespace || r.namespace === req.kubernetesNamespace),
        );
      const { page, nextKey } = paginate(found, (r) => [r.namespace ?? '', r.name], {
        descending: req.sortBy?.isDesc ?? false,
        limit: pageLimit(req.limit),
        startKey: req.startKey,
      });
      return {
        resources: page.map(toKubernetesResource),
        nextKey,
        totalCount: req.needTotalCount ? found.length : 0,
      };
    },
  );
  return { listKubernetesResources };
}
