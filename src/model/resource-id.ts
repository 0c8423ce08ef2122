import { UsageError } from './errors.js';

/**
 * A requestable resource, as Teleport's `types.ResourceID` names it. The string form is
 * `/<cluster>/<kind>/<name>[/<subResource>]`; see wire facts §8.
 */
export interface ResourceId {
  cluster: string;
  kind: string;
  name: string;
  /** Kubernetes only: `<namespace>/<name>` for namespaced kinds, `<name>` for cluster-wide ones. */
  subResource?: string;
}

/** A Kubernetes resource kind in Teleport's `kube:ns:` / `kube:cw:` form. */
export interface KubeKind {
  /** Lower-case plural resource name, e.g. `deployments`. */
  plural: string;
  /** API group; `''` (or `core`) is the core group, which has no suffix. */
  apiGroup: string;
  namespaced: boolean;
}

/** Kinds Teleport accepts in a request besides the `kube:` family (v18 `RequestableResourceKinds`). */
export const REQUESTABLE_KINDS = [
  'node',
  'kube_cluster',
  'kube_resource',
  'db',
  'app',
  'windows_desktop',
  'user_group',
  'saml_idp_service_provider',
  'aws_ic_account',
  'aws_ic_account_assignment',
  'git_server',
  'namespace',
] as const;

const KUBE_PREFIX = 'kube:';
const KUBE_NAMESPACED_PREFIX = 'kube:ns:';
const KUBE_CLUSTER_WIDE_PREFIX = 'kube:cw:';

/**
 * Pre-v18 Kubernetes kinds, which v18 rewrites to the `kube:` form. `namespace` stays as is,
 * so it is not listed here; it is cluster-wide.
 */
export const LEGACY_KUBE_KINDS: Readonly<Record<string, KubeKind>> = {
  pod: { plural: 'pods', apiGroup: '', namespaced: true },
  secret: { plural: 'secrets', apiGroup: '', namespaced: true },
  configmap: { plural: 'configmaps', apiGroup: '', namespaced: true },
  service: { plural: 'services', apiGroup: '', namespaced: true },
  serviceaccount: { plural: 'serviceaccounts', apiGroup: '', namespaced: true },
  kube_node: { plural: 'nodes', apiGroup: '', namespaced: false },
  persistentvolume: { plural: 'persistentvolumes', apiGroup: '', namespaced: false },
  persistentvolumeclaim: { plural: 'persistentvolumeclaims', apiGroup: '', namespaced: true },
  deployment: { plural: 'deployments', apiGroup: 'apps', namespaced: true },
  replicaset: { plural: 'replicasets', apiGroup: 'apps', namespaced: true },
  statefulset: { plural: 'statefulsets', apiGroup: 'apps', namespaced: true },
  daemonset: { plural: 'daemonsets', apiGroup: 'apps', namespaced: true },
  clusterrole: { plural: 'clusterroles', apiGroup: 'rbac.authorization.k8s.io', namespaced: false },
  kube_role: { plural: 'roles', apiGroup: 'rbac.authorization.k8s.io', namespaced: true },
  clusterrolebinding: {
    plural: 'clusterrolebindings',
    apiGroup: 'rbac.authorization.k8s.io',
    namespaced: false,
  },
  rolebinding: { plural: 'rolebindings', apiGroup: 'rbac.authorization.k8s.io', namespaced: true },
  cronjob: { plural: 'cronjobs', apiGroup: 'batch', namespaced: true },
  job: { plural: 'jobs', apiGroup: 'batch', namespaced: true },
  certificatesigningrequest: {
    plural: 'certificatesigningrequests',
    apiGroup: 'certificates.k8s.io',
    namespaced: false,
  },
  ingress: { plural: 'ingresses', apiGroup: 'networking.k8s.io', namespaced: true },
};

const SHAPE = '/<cluster>/<kind>/<name>';

function isLegacyKubeKind(kind: string): boolean {
  return Object.hasOwn(LEGACY_KUBE_KINDS, kind);
}

/** True for every kind whose name carries a Kubernetes sub-resource. */
export function isKubeKind(kind: string): boolean {
  return kind === 'namespace' || kind.startsWith(KUBE_PREFIX) || isLegacyKubeKind(kind);
}

function isClusterWideKind(kind: string): boolean {
  if (kind === 'namespace' || kind.startsWith(KUBE_CLUSTER_WIDE_PREFIX)) return true;
  return isLegacyKubeKind(kind) && !LEGACY_KUBE_KINDS[kind].namespaced;
}

/** `{plural:'deployments', apiGroup:'apps', namespaced:true}` → `kube:ns:deployments.apps`. */
export function kubeKindString(k: KubeKind): string {
  const group = k.apiGroup === '' || k.apiGroup === 'core' ? '' : `.${k.apiGroup}`;
  return `${k.namespaced ? KUBE_NAMESPACED_PREFIX : KUBE_CLUSTER_WIDE_PREFIX}${k.plural}${group}`;
}

/**
 * The inverse of {@link kubeKindString}; undefined when `kind` is not a well-formed
 * `kube:ns:`/`kube:cw:` kind. The plural never contains a dot, so the first dot starts the group.
 */
export function parseKubeKind(kind: string): KubeKind | undefined {
  let namespaced: boolean;
  if (kind.startsWith(KUBE_NAMESPACED_PREFIX)) namespaced = true;
  else if (kind.startsWith(KUBE_CLUSTER_WIDE_PREFIX)) namespaced = false;
  else return undefined;
  const rest = kind.slice(KUBE_NAMESPACED_PREFIX.length);
  const dot = rest.indexOf('.');
  const plural = dot < 0 ? rest : rest.slice(0, dot);
  const apiGroup = dot < 0 ? '' : rest.slice(dot + 1);
  if (plural === '' || (dot >= 0 && apiGroup === '')) return undefined;
  return { plural, apiGroup, namespaced };
}

function fail(input: string, what: string): never {
  throw new UsageError(
    `invalid resource ID ${JSON.stringify(input)}: ${what}`,
    'see `access help resource-ids` for the accepted forms',
  );
}

function kubeShape(kind: string, clusterWide: boolean): string {
  return clusterWide
    ? `${kind} needs <kube-cluster>/<name>`
    : `${kind} needs <kube-cluster>/<namespace>/<name>`;
}

/**
 * Parses `/<cluster>/<kind>/<name>` (and the Kubernetes forms) exactly as Teleport v18 does,
 * rewriting legacy kube kinds (`pod`, `deployment`, …) to `kube:ns:`/`kube:cw:`.
 * Throws a UsageError naming the part that is wrong.
 */
export function parseResourceId(s: string): ResourceId {
  if (!s.startsWith('/')) fail(s, `must start with "/" (expected ${SHAPE})`);
  const rest = s.slice(1);
  const first = rest.indexOf('/');
  const second = first < 0 ? -1 : rest.indexOf('/', first + 1);
  const cluster = first < 0 ? rest : rest.slice(0, first);
  const kind = first < 0 ? '' : second < 0 ? rest.slice(first + 1) : rest.slice(first + 1, second);
  const fullName = second < 0 ? '' : rest.slice(second + 1);

  if (cluster === '') fail(s, `missing the cluster (expected ${SHAPE})`);
  if (kind === '') fail(s, `missing the kind (expected ${SHAPE})`);
  if (fullName === '') fail(s, `missing the name (expected ${SHAPE})`);
  if (!isKubeKind(kind) && !(REQUESTABLE_KINDS as readonly string[]).includes(kind)) {
    fail(
      s,
      `unknown kind ${JSON.stringify(kind)} (one of ${REQUESTABLE_KINDS.join(', ')}, or kube:ns:… / kube:cw:…)`,
    );
  }

  if (!isKubeKind(kind)) return { cluster, kind, name: fullName };

  const newKind = isLegacyKubeKind(kind) ? kubeKindString(LEGACY_KUBE_KINDS[kind]) : kind;
  if (newKind !== 'namespace' && parseKubeKind(newKind) === undefined) {
    fail(
      s,
      `malformed Kubernetes kind ${JSON.stringify(kind)} (expected kube:ns:<plural>[.<group>] or kube:cw:<plural>[.<group>])`,
    );
  }
  const clusterWide = isClusterWideKind(kind);
  const segments = fullName.split('/');
  const subCount = clusterWide ? 1 : 2;
  if (segments.length < subCount + 1) fail(s, kubeShape(kind, clusterWide));
  const name = segments.slice(0, segments.length - subCount).join('/');
  const sub = segments.slice(segments.length - subCount);
  if (name === '') fail(s, `${kubeShape(kind, clusterWide)} (the Kubernetes cluster is empty)`);
  if (clusterWide) {
    if (sub[0] === '') fail(s, `${kubeShape(kind, clusterWide)} (the resource name is empty)`);
  } else {
    if (sub[0] === '') fail(s, `${kubeShape(kind, clusterWide)} (the namespace is empty)`);
    if (sub[1] === '') fail(s, `${kubeShape(kind, clusterWide)} (the resource name is empty)`);
  }
  return { cluster, kind: newKind, name, subResource: sub.join('/') };
}

/** `/<cluster>/<kind>/<name>[/<subResource>]`; the exact inverse of {@link parseResourceId}. */
export function formatResourceId(id: ResourceId): string {
  const base = `/${id.cluster}/${id.kind}/${id.name}`;
  return id.subResource ? `${base}/${id.subResource}` : base;
}

/**
 * Parses each ID (throwing on the first bad one) and drops repeats, keeping first-seen order;
 * a legacy and a new spelling of the same resource count as one.
 */
export function parseResourceIds(list: readonly string[]): ResourceId[] {
  const seen = new Set<string>();
  const out: ResourceId[] = [];
  for (const s of list) {
    const id = parseResourceId(s);
    const key = formatResourceId(id);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(id);
  }
  return out;
}
