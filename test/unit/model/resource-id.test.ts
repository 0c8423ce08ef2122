import { describe, expect, it } from 'vitest';
import {
  formatResourceId,
  isKubeKind,
  kubeKindString,
  LEGACY_KUBE_KINDS,
  parseKubeKind,
  parseResourceId,
  parseResourceIds,
  type ResourceId,
} from '../../../src/model/resource-id.js';
import { usageError } from './helpers.js';

/** The one-line message of the UsageError `fn` throws, which must carry the resource-ID hint. */
function usageMessage(fn: () => unknown): string {
  const err = usageError(fn);
  expect(err.kind).toBe('usage');
  expect(err.message).not.toContain('\n');
  expect(err.hint).toBe('see `access help resource-ids` for the accepted forms');
  return err.message;
}

describe('parseResourceId / formatResourceId round trip', () => {
  const cases: [string, ResourceId][] = [
    [
      '/local/node/8c3a1b2e-0000-4000-8000-000000000001',
      { cluster: 'local', kind: 'node', name: '8c3a1b2e-0000-4000-8000-000000000001' },
    ],
    ['/local/db/postgres-prod', { cluster: 'local', kind: 'db', name: 'postgres-prod' }],
    ['/local/app/grafana', { cluster: 'local', kind: 'app', name: 'grafana' }],
    ['/root/kube_cluster/my-kube', { cluster: 'root', kind: 'kube_cluster', name: 'my-kube' }],
    ['/root/windows_desktop/win-01', { cluster: 'root', kind: 'windows_desktop', name: 'win-01' }],
    ['/root/user_group/eng', { cluster: 'root', kind: 'user_group', name: 'eng' }],
    ['/root/git_server/gh', { cluster: 'root', kind: 'git_server', name: 'gh' }],
    // Non-kube names keep further slashes, as Teleport's 3-part split does.
    ['/root/app/a/b', { cluster: 'root', kind: 'app', name: 'a/b' }],
    [
      '/root/kube:ns:pods/my-kube/default/nginx',
      { cluster: 'root', kind: 'kube:ns:pods', name: 'my-kube', subResource: 'default/nginx' },
    ],
    [
      '/root/kube:ns:deployments.apps/my-kube/prod/web',
      { cluster: 'root', kind: 'kube:ns:deployments.apps', name: 'my-kube', subResource: 'prod/web' },
    ],
    [
      '/root/kube:cw:clusterroles.rbac.authorization.k8s.io/my-kube/admin',
      {
        cluster: 'root',
        kind: 'kube:cw:clusterroles.rbac.authorization.k8s.io',
        name: 'my-kube',
        subResource: 'admin',
      },
    ],
    [
      '/root/namespace/my-kube/prod',
      { cluster: 'root', kind: 'namespace', name: 'my-kube', subResource: 'prod' },
    ],
    // Kube cluster names may contain '/': the sub-resource is taken from the end.
    [
      '/root/kube:ns:pods/team/a/kube/default/nginx',
      { cluster: 'root', kind: 'kube:ns:pods', name: 'team/a/kube', subResource: 'default/nginx' },
    ],
    [
      '/root/kube:cw:nodes/team/kube/node-1',
      { cluster: 'root', kind: 'kube:cw:nodes', name: 'team/kube', subResource: 'node-1' },
    ],
    [
      '/root/namespace/team/kube/prod',
      { cluster: 'root', kind: 'namespace', name: 'team/kube', subResource: 'prod' },
    ],
    // Wildcards as in Teleport's own tests.
    [
      '/root/kube:ns:*.*/my-kube/dev/*',
      { cluster: 'root', kind: 'kube:ns:*.*', name: 'my-kube', subResource: 'dev/*' },
    ],
  ];

  it.each(cases)('%s', (text, id) => {
    expect(parseResourceId(text)).toEqual(id);
    expect(formatResourceId(id)).toBe(text);
    expect(formatResourceId(parseResourceId(text))).toBe(text);
  });

  it('omits subResource for non-kube kinds', () => {
    expect(parseResourceId('/c/node/x')).not.toHaveProperty('subResource');
  });
});

describe('legacy kube kinds are rewritten', () => {
  const cases: [string, string][] = [
    ['/root/pod/my-kube/default/nginx', '/root/kube:ns:pods/my-kube/default/nginx'],
    ['/root/secret/k/ns/s', '/root/kube:ns:secrets/k/ns/s'],
    ['/root/deployment/my-kube/prod/web', '/root/kube:ns:deployments.apps/my-kube/prod/web'],
    ['/root/kube_role/k/ns/r', '/root/kube:ns:roles.rbac.authorization.k8s.io/k/ns/r'],
    ['/root/cronjob/k/ns/c', '/root/kube:ns:cronjobs.batch/k/ns/c'],
    ['/root/ingress/k/ns/i', '/root/kube:ns:ingresses.networking.k8s.io/k/ns/i'],
    ['/root/clusterrole/my-kube/admin', '/root/kube:cw:clusterroles.rbac.authorization.k8s.io/my-kube/admin'],
    ['/root/kube_node/my-kube/node-1', '/root/kube:cw:nodes/my-kube/node-1'],
    ['/root/persistentvolume/k/pv', '/root/kube:cw:persistentvolumes/k/pv'],
    [
      '/root/certificatesigningrequest/k/csr',
      '/root/kube:cw:certificatesigningrequests.certificates.k8s.io/k/csr',
    ],
    // The scope of a legacy kind decides the split, so a slash in the cluster name survives.
    [
      '/root/clusterrolebinding/a/b/crb',
      '/root/kube:cw:clusterrolebindings.rbac.authorization.k8s.io/a/b/crb',
    ],
  ];

  it.each(cases)('%s → %s', (legacy, modern) => {
    expect(formatResourceId(parseResourceId(legacy))).toBe(modern);
    expect(parseResourceId(modern)).toEqual(parseResourceId(legacy));
  });

  it('covers every legacy kind with a well-formed kube kind', () => {
    for (const [kind, k] of Object.entries(LEGACY_KUBE_KINDS)) {
      const sub = k.namespaced ? 'ns/x' : 'x';
      const id = parseResourceId(`/c/${kind}/kube/${sub}`);
      expect(id.kind).toBe(kubeKindString(k));
      expect(id.subResource).toBe(sub);
    }
  });

  it('keeps namespace as is', () => {
    expect(parseResourceId('/c/namespace/k/prod').kind).toBe('namespace');
  });
});

describe('malformed resource IDs', () => {
  const cases: [string, RegExp][] = [
    ['', /must start with "\/"/],
    ['local/node/x', /^invalid resource ID "local\/node\/x": must start with "\/"/],
    ['/', /missing the cluster/],
    ['//node/x', /missing the cluster/],
    ['/local', /missing the kind/],
    ['/local/', /missing the kind/],
    ['/local//x', /missing the kind/],
    [
      '/c/node',
      /^invalid resource ID "\/c\/node": missing the name \(expected \/<cluster>\/<kind>\/<name>\)$/,
    ],
    ['/c/node/', /missing the name/],
    ['/c/nod/x', /unknown kind "nod" \(one of node, kube_cluster, kube_resource, db, app, /],
    ['/c/replicationcontroller/k/ns/x', /unknown kind "replicationcontroller"/],
    ['/c/NODE/x', /unknown kind "NODE"/],
    ['/c/kube:ns:pods/my-kube', /kube:ns:pods needs <kube-cluster>\/<namespace>\/<name>$/],
    ['/c/kube:ns:pods/my-kube/default', /kube:ns:pods needs <kube-cluster>\/<namespace>\/<name>$/],
    [
      '/c/kube:ns:pods//default/nginx',
      /needs <kube-cluster>\/<namespace>\/<name> \(the Kubernetes cluster is empty\)/,
    ],
    ['/c/kube:ns:pods/k//nginx', /\(the namespace is empty\)/],
    ['/c/kube:ns:pods/k/default/', /\(the resource name is empty\)/],
    ['/c/kube:cw:clusterroles/my-kube', /kube:cw:clusterroles needs <kube-cluster>\/<name>$/],
    ['/c/kube:cw:clusterroles/my-kube/', /\(the resource name is empty\)/],
    ['/c/namespace/my-kube', /namespace needs <kube-cluster>\/<name>/],
    ['/c/pod/my-kube/nginx', /pod needs <kube-cluster>\/<namespace>\/<name>/],
    ['/c/kube:pods/k/ns/x', /malformed Kubernetes kind "kube:pods"/],
    ['/c/kube:ns:/k/ns/x', /malformed Kubernetes kind "kube:ns:"/],
    ['/c/kube:ns:pods./k/ns/x', /malformed Kubernetes kind "kube:ns:pods\."/],
  ];

  it.each(cases)('%j', (input, pattern) => {
    const message = usageMessage(() => parseResourceId(input));
    expect(message).toMatch(pattern);
    expect(message).toContain(`invalid resource ID ${JSON.stringify(input)}`);
  });
});

describe('parseResourceIds', () => {
  it('parses in order and drops repeats, including a legacy spelling of the same resource', () => {
    const ids = parseResourceIds([
      '/c/node/a',
      '/c/pod/k/ns/p',
      '/c/node/a',
      '/c/kube:ns:pods/k/ns/p',
      '/c/db/d',
    ]);
    expect(ids.map(formatResourceId)).toEqual(['/c/node/a', '/c/kube:ns:pods/k/ns/p', '/c/db/d']);
  });

  it('throws on the first bad ID', () => {
    expect(usageMessage(() => parseResourceIds(['/c/node/a', '/c/x']))).toMatch(/"\/c\/x": missing the name/);
  });

  it('returns [] for no IDs', () => {
    expect(parseResourceIds([])).toEqual([]);
  });
});

describe('kube kinds', () => {
  it('formats namespaced and cluster-wide kinds, with no suffix for the core group', () => {
    expect(kubeKindString({ plural: 'deployments', apiGroup: 'apps', namespaced: true })).toBe(
      'kube:ns:deployments.apps',
    );
    expect(kubeKindString({ plural: 'pods', apiGroup: '', namespaced: true })).toBe('kube:ns:pods');
    expect(kubeKindString({ plural: 'pods', apiGroup: 'core', namespaced: true })).toBe('kube:ns:pods');
    expect(
      kubeKindString({ plural: 'clusterroles', apiGroup: 'rbac.authorization.k8s.io', namespaced: false }),
    ).toBe('kube:cw:clusterroles.rbac.authorization.k8s.io');
  });

  it('parses a kube kind back', () => {
    expect(parseKubeKind('kube:cw:clusterroles.rbac.authorization.k8s.io')).toEqual({
      plural: 'clusterroles',
      apiGroup: 'rbac.authorization.k8s.io',
      namespaced: false,
    });
    expect(parseKubeKind('kube:ns:pods')).toEqual({ plural: 'pods', apiGroup: '', namespaced: true });
    expect(parseKubeKind('kube:pods')).toBeUndefined();
    expect(parseKubeKind('node')).toBeUndefined();
  });

  it('knows which kinds carry a sub-resource', () => {
    expect(isKubeKind('namespace')).toBe(true);
    expect(isKubeKind('kube:ns:pods')).toBe(true);
    expect(isKubeKind('pod')).toBe(true);
    expect(isKubeKind('kube_cluster')).toBe(false);
    expect(isKubeKind('toString')).toBe(false);
  });
});
