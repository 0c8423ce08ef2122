/**
 * What a user may request, in the domain's words: resources found with search_as_roles
 * (ListResources, KubeService.ListKubernetesResources) as model search results, and access
 * capabilities as the model's Capabilities.
 */
import { KubeServiceDefinition } from '../gen/teleport/kube/v1/kube_service.js';
import { AccessError } from '../model/errors.js';
import type { Capabilities } from '../model/request.js';
import type { SearchKind, SearchResult } from '../model/search.js';
import type { Connection } from './connect.js';
import { isRpcError } from './errors.js';
import { paginate } from './list.js';
import { capabilitiesFromProto, searchResultFromKubeResource, searchResultFromPaginated } from './map.js';
import type { CallOptions } from './rpc.js';

/** Teleport's ListResources resource types for each searchable kind. */
const RESOURCE_TYPES: Record<Exclude<SearchKind, 'kube_resource'>, string> = {
  node: 'node',
  db: 'db_server',
  app: 'app_server',
  kube_cluster: 'kube_cluster',
  windows_desktop: 'windows_desktop',
  user_group: 'user_group',
  saml_idp_service_provider: 'saml_idp_service_provider',
  aws_ic_account: 'aws_ic_account',
  aws_ic_account_assignment: 'aws_ic_account_assignment',
};

/** Filters every search takes, applied by the server. */
export interface SearchFilter {
  keywords: string[];
  /** A predicate expression; '' for none. */
  query: string;
  labels: Record<string, string>;
}

const PAGE_SIZE = 500;

/** Results in the order found, each resource ID once. */
function collector(): { add(r: SearchResult | undefined): void; out: SearchResult[] } {
  const out: SearchResult[] = [];
  const seen = new Set<string>();
  return {
    out,
    add(r) {
      if (!r || seen.has(r.resource_id)) return;
      seen.add(r.resource_id);
      out.push(r);
    },
  };
}

/**
 * Resources of `kind` the caller may request (search_as_roles), with resource IDs naming
 * `cluster`: the cluster `conn` reaches, a leaf or the root.
 */
export async function searchResources(
  conn: Connection,
  cluster: string,
  kind: Exclude<SearchKind, 'kube_resource'>,
  filter: SearchFilter,
  call: CallOptions = {},
): Promise<SearchResult[]> {
  const found = collector();
  const pages = paginate(async (limit, startKey) => {
    const page = await conn.auth.listResources(
      {
        resourceType: RESOURCE_TYPES[kind],
        limit,
        startKey,
        labels: filter.labels,
        predicateExpression: filter.query,
        searchKeywords: filter.keywords,
        useSearchAsRoles: true,
      },
      call,
    );
    return { items: page.resources, nextKey: page.nextKey };
  }, PAGE_SIZE);
  for await (const page of pages) for (const r of page) found.add(searchResultFromPaginated(r, cluster));
  return found.out;
}

/** Where to look for Kubernetes objects. */
export interface KubeSearch extends SearchFilter {
  /** The resource ID kind searched for, `kube:ns:<plural>[.<group>]` or `kube:cw:…`. */
  kind: string;
  kubeCluster: string;
  /** '' searches every namespace. */
  namespace: string;
}

/**
 * Kubernetes objects the caller may request in a Kubernetes cluster of `cluster`.
 * Teleport serves teleport.kube.v1.KubeService on the Proxy, not on the Auth Service, so
 * an Auth address answers Unimplemented: that is said plainly, with what to do instead.
 */
export async function searchKubeResources(
  conn: Connection,
  cluster: string,
  search: KubeSearch,
  call: CallOptions = {},
): Promise<SearchResult[]> {
  const found = collector();
  const pages = paginate(async (limit, startKey) => {
    try {
      const page = await conn.service(KubeServiceDefinition).listKubernetesResources(
        {
          resourceType: search.kind,
          limit,
          startKey,
          labels: search.labels,
          predicateExpression: search.query,
          searchKeywords: search.keywords,
          useSearchAsRoles: true,
          teleportCluster: cluster,
          kubernetesCluster: search.kubeCluster,
          kubernetesNamespace: search.namespace,
        },
        call,
      );
      return { items: page.resources, nextKey: page.nextKey };
    } catch (err) {
      if (!isRpcError(err, 'UNIMPLEMENTED')) throw err;
      throw new AccessError(
        'failure',
        `${conn.address} does not serve Kubernetes resource search (teleport.kube.v1.KubeService)`,
        'Teleport serves it on the Proxy: search with `tsh request search --kind kube_resource`, or request the whole cluster (`access request search --kind kube_cluster`)',
      );
    }
  }, PAGE_SIZE);
  for await (const page of pages) {
    for (const r of page)
      found.add(searchResultFromKubeResource(r, cluster, search.kubeCluster, search.kind));
  }
  return found.out;
}

/**
 * Hostnames of the nodes named in `names` that the caller can see, by node name. Best
 * effort, over at most 20 pages: a failure (no permission, an older server) only means
 * fewer hostnames, unless the call was cancelled.
 */
export async function nodeHostnames(
  conn: Connection,
  names: ReadonlySet<string>,
  call: CallOptions = {},
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (names.size === 0) return out;
  try {
    let startKey = '';
    let pages = 0;
    do {
      const page = await conn.auth.listResources(
        { resourceType: 'node', limit: 500, startKey, useSearchAsRoles: true },
        call,
      );
      for (const r of page.resources) {
        if (r.resource?.$case !== 'node') continue;
        const name = r.resource.value.metadata?.name ?? '';
        const host = r.resource.value.spec?.hostname ?? '';
        if (names.has(name) && host !== '') out.set(name, host);
      }
      startKey = page.nextKey;
      pages++;
    } while (startKey !== '' && out.size < names.size && pages < 20);
  } catch (err) {
    if (call.signal?.aborted) throw err;
  }
  return out;
}

/** Which parts of the capabilities to compute (the server skips the others). */
export interface CapabilitiesWanted {
  requestableRoles: boolean;
  suggestedReviewers?: boolean;
}

/** What `user` may request and who reviews it (GetAccessCapabilities). */
export async function getCapabilities(
  conn: Connection,
  user: string,
  want: CapabilitiesWanted,
  call: CallOptions = {},
): Promise<Capabilities> {
  const caps = await conn.auth.getAccessCapabilities({ user, ...want }, call);
  return capabilitiesFromProto(caps);
}
