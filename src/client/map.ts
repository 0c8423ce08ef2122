import type { PaginatedResource } from '../gen/teleport/legacy/client/proto/authservice.js';
import type {
  AccessCapabilities,
  AccessRequestV3,
  AccessReview,
  KubernetesResourceV1,
  Metadata,
  ResourceID,
} from '../gen/teleport/legacy/types/types.js';
import type { LabelValues } from '../gen/teleport/legacy/types/wrappers/wrappers.js';
import {
  type AccessRequest,
  type Capabilities,
  newAccessRequest,
  newReview,
  type ReasonPolicy,
  type Review,
  stateName,
} from '../model/request.js';
import {
  formatResourceId,
  kubeKindString,
  LEGACY_KUBE_KINDS,
  parseKubeKind,
  type ResourceId,
} from '../model/resource-id.js';
import { newSearchResult, type SearchResult } from '../model/search.js';
import { toIsoOrNull } from '../model/time.js';

// Proto → model mapping lives at the client edge so that src/model never imports src/gen.

/** `wrappers.LabelValues` → `{key: [values…]}`, keys sorted so output is stable. */
export function labelValuesToRecord(lv: LabelValues | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!lv) return out;
  for (const key of Object.keys(lv.values).sort()) out[key] = [...(lv.values[key]?.values ?? [])];
  return out;
}

/** `{key: [values…]}` → `wrappers.LabelValues`. */
export function recordToLabelValues(rec: Record<string, readonly string[]>): LabelValues {
  const values: LabelValues['values'] = {};
  for (const [key, list] of Object.entries(rec)) values[key] = { values: [...list] };
  return { values };
}

export function resourceIdToProto(id: ResourceId): ResourceID {
  return { clusterName: id.cluster, kind: id.kind, name: id.name, subResourceName: id.subResource ?? '' };
}

export function resourceIdFromProto(r: ResourceID): ResourceId {
  const id: ResourceId = { cluster: r.clusterName, kind: r.kind, name: r.name };
  if (r.subResourceName) id.subResource = r.subResourceName;
  return id;
}

export function reviewFromProto(r: AccessReview): Review {
  return newReview({
    author: r.author,
    state: stateName(r.proposedState),
    reason: r.reason,
    created: toIsoOrNull(r.created),
    roles: [...r.roles],
    annotations: labelValuesToRecord(r.annotations),
    assume_start_time: toIsoOrNull(r.assumeStartTime),
  });
}

/**
 * An AccessRequestV3 in our JSON shape. `expires` is when a pending request lapses
 * (spec.resource_expiry, which Teleport v16+ sets, else metadata.expires); `access_expires` is spec.expires; `session_expires` and
 * `max_duration` are the absolute times of spec.sessionTtl and spec.maxDuration. Unset
 * and zero (year 1) times become null.
 */
export function requestFromProto(r: AccessRequestV3): AccessRequest {
  const spec = r.spec;
  return newAccessRequest({
    id: r.metadata?.name ?? '',
    user: spec?.user ?? '',
    roles: [...(spec?.roles ?? [])],
    resources: (spec?.requestedResourceIds ?? []).map((id) => formatResourceId(resourceIdFromProto(id))),
    state: stateName(spec?.state ?? 0),
    reason: spec?.requestReason ?? '',
    resolve_reason: spec?.resolveReason ?? '',
    suggested_reviewers: [...(spec?.suggestedReviewers ?? [])],
    created: toIsoOrNull(spec?.created),
    expires: toIsoOrNull(spec?.resourceExpiry) ?? toIsoOrNull(r.metadata?.expires),
    access_expires: toIsoOrNull(spec?.expires),
    session_expires: toIsoOrNull(spec?.sessionTtl),
    max_duration: toIsoOrNull(spec?.maxDuration),
    assume_start_time: toIsoOrNull(spec?.assumeStartTime),
    thresholds: (spec?.thresholds ?? []).map((t) => ({ name: t.name, approve: t.approve, deny: t.deny })),
    reviews: (spec?.reviews ?? []).map(reviewFromProto),
    annotations: labelValuesToRecord(spec?.resolveAnnotations),
    system_annotations: labelValuesToRecord(spec?.systemAnnotations),
  });
}

/**
 * The reason policy a dry run's answer carries (spec.dry_run_enrichment), or undefined from
 * a server that does not send one (Teleport before the enrichment; any non-dry-run answer).
 */
export function reasonPolicyFromDryRun(r: AccessRequestV3): ReasonPolicy | undefined {
  const e = r.spec?.dryRunEnrichment;
  if (!e) return undefined;
  return {
    reason_mode: e.reasonMode === 'required' ? 'required' : 'optional',
    reason_prompts: [...e.reasonPrompts],
  };
}

export function capabilitiesFromProto(c: AccessCapabilities): Capabilities {
  return {
    requestable_roles: [...c.requestableRoles],
    suggested_reviewers: [...c.suggestedReviewers],
    applicable_roles: [...c.applicableRolesForResources],
    request_prompt: c.requestPrompt,
    require_reason: c.requireReason,
    auto_request: c.autoRequest,
  };
}

function labelsOf(md: Metadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!md) return out;
  for (const key of Object.keys(md.labels).sort()) out[key] = md.labels[key];
  return out;
}

function result(
  cluster: string,
  kind: string,
  md: Metadata | undefined,
  extra: { hostname?: string } = {},
): SearchResult {
  const name = md?.name ?? '';
  return newSearchResult({
    kind,
    name,
    hostname: extra.hostname ?? '',
    labels: labelsOf(md),
    resource_id: formatResourceId({ cluster, kind, name }),
  });
}

/**
 * One row of a ListResources/ListUnifiedResources page. Nodes are named by their UUID
 * (metadata.name) with the hostname alongside; databases and apps by the resource the
 * server hosts. Undefined for a oneof arm this build does not know.
 */
export function searchResultFromPaginated(r: PaginatedResource, cluster: string): SearchResult | undefined {
  const res = r.resource;
  switch (res?.$case) {
    case 'node':
      return result(cluster, 'node', res.value.metadata, { hostname: res.value.spec?.hostname });
    case 'databaseServer':
      return result(cluster, 'db', res.value.spec?.database?.metadata ?? res.value.metadata);
    case 'appServer': {
      const app = res.value.spec?.app;
      // lib/services/unified_resource.go: makePaginatedIdentityCenterAccount sends an AWS
      // Identity Center account as an app of sub-kind aws_ic_account.
      if (app?.subKind === 'aws_ic_account') {
        return result(cluster, 'aws_ic_account', app.metadata ?? res.value.metadata, {
          hostname: app.spec?.identityCenter?.accountId,
        });
      }
      return result(cluster, 'app', app?.metadata ?? res.value.metadata, { hostname: app?.spec?.publicAddr });
    }
    case 'kubeCluster':
      return result(cluster, 'kube_cluster', res.value.metadata);
    case 'kubernetesServer':
      return result(cluster, 'kube_cluster', res.value.spec?.cluster?.metadata ?? res.value.metadata);
    case 'windowsDesktop':
      return result(cluster, 'windows_desktop', res.value.header?.metadata, {
        hostname: res.value.spec?.addr,
      });
    case 'userGroup':
      return result(cluster, 'user_group', res.value.header?.metadata);
    case 'samlIdpServiceProvider':
      return result(cluster, 'saml_idp_service_provider', res.value.header?.metadata, {
        hostname: res.value.spec?.entityId,
      });
    case 'identityCenterAccountAssignment':
      return result(cluster, 'aws_ic_account_assignment', res.value.metadata, {
        hostname: res.value.displayName,
      });
    default:
      return undefined;
  }
}

/**
 * The resource-ID kind of a Kubernetes object: already `kube:ns:`/`kube:cw:` (or
 * `namespace`), a legacy kind such as `pod`, or else a plural with its API group in
 * subKind, namespaced when the object has a namespace.
 */
function kubeKindOf(r: KubernetesResourceV1): string {
  if (r.kind === 'namespace' || parseKubeKind(r.kind)) return r.kind;
  const legacy = Object.hasOwn(LEGACY_KUBE_KINDS, r.kind) ? LEGACY_KUBE_KINDS[r.kind] : undefined;
  if (legacy) return kubeKindString(legacy);
  return kubeKindString({
    plural: r.kind,
    apiGroup: r.subKind,
    namespaced: (r.spec?.namespace ?? '') !== '',
  });
}

/**
 * One row of a ListKubernetesResources page, with its `/<cluster>/kube:…/<kube-cluster>/…`
 * ID. `kind` is the `kube:ns:`/`kube:cw:` kind that was searched for, when known;
 * otherwise it is read from the object.
 */
export function searchResultFromKubeResource(
  r: KubernetesResourceV1,
  cluster: string,
  kubeCluster: string,
  kind: string = kubeKindOf(r),
): SearchResult {
  const name = r.metadata?.name ?? '';
  const namespace = r.spec?.namespace ?? '';
  const namespaced = kind !== 'namespace' && parseKubeKind(kind)?.namespaced === true;
  return newSearchResult({
    kind,
    name,
    namespace,
    labels: labelsOf(r.metadata),
    resource_id: formatResourceId({
      cluster,
      kind,
      name: kubeCluster,
      subResource: namespaced ? `${namespace}/${name}` : name,
    }),
  });
}
