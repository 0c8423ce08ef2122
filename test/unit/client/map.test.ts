import { describe, expect, it } from 'vitest';
import {
  capabilitiesFromProto,
  labelValuesToRecord,
  recordToLabelValues,
  requestFromProto,
  resourceIdFromProto,
  resourceIdToProto,
  searchResultFromKubeResource,
  searchResultFromPaginated,
} from '../../../src/client/map.js';
import { PaginatedResource } from '../../../src/gen/teleport/legacy/client/proto/authservice.js';
import {
  AccessCapabilities,
  AccessRequestV3,
  KubernetesResourceV1,
  RequestState,
} from '../../../src/gen/teleport/legacy/types/types.js';
import { ACCESS_REQUEST_KEYS } from '../../../src/model/request.js';
import { parseResourceId } from '../../../src/model/resource-id.js';

/** Go's zero time.Time as it arrives on the wire: 0001-01-01T00:00:00Z. */
const GO_ZERO = new Date(-62_135_596_800_000);

describe('requestFromProto', () => {
  const proto = AccessRequestV3.fromPartial({
    kind: 'access_request',
    version: 'v3',
    metadata: { name: '0193c1e2-aaaa', expires: new Date('2026-11-28T10:00:00Z') },
    spec: {
      user: 'alice',
      roles: ['dba'],
      state: RequestState.APPROVED,
      created: new Date('2026-11-21T10:00:00Z'),
      expires: new Date('2026-11-21T18:00:00Z'),
      sessionTtl: new Date('2026-11-21T18:00:00.250Z'),
      maxDuration: GO_ZERO,
      assumeStartTime: undefined,
      requestReason: 'ticket 42',
      resolveReason: 'ok',
      resolveAnnotations: { values: { ticket: { values: ['42'] }, a: { values: ['x', 'y'] } } },
      systemAnnotations: { values: {} },
      suggestedReviewers: ['bob'],
      thresholds: [{ name: 'default', approve: 1, deny: 1, filter: '' }],
      reviews: [
        {
          author: 'bob',
          roles: ['reviewer'],
          proposedState: RequestState.APPROVED,
          reason: 'fine',
          created: new Date('2026-11-21T10:01:00Z'),
          annotations: { values: { why: { values: ['because'] } } },
          assumeStartTime: GO_ZERO,
        },
      ],
      requestedResourceIds: [
        { clusterName: 'local', kind: 'node', name: '8c3e', subResourceName: '' },
        { clusterName: 'local', kind: 'kube:ns:pods', name: 'my-kube', subResourceName: 'default/nginx' },
      ],
    },
  });

  it('maps every field to our JSON shape, in the spec key order', () => {
    const req = requestFromProto(proto);
    expect(Object.keys(req)).toEqual([...ACCESS_REQUEST_KEYS]);
    expect(req).toEqual({
      id: '0193c1e2-aaaa',
      user: 'alice',
      roles: ['dba'],
      resources: ['/local/node/8c3e', '/local/kube:ns:pods/my-kube/default/nginx'],
      state: 'APPROVED',
      reason: 'ticket 42',
      resolve_reason: 'ok',
      suggested_reviewers: ['bob'],
      created: '2026-11-21T10:00:00Z',
      expires: '2026-11-28T10:00:00Z',
      access_expires: '2026-11-21T18:00:00Z',
      session_expires: '2026-11-21T18:00:00.250Z',
      max_duration: null,
      assume_start_time: null,
      thresholds: [{ name: 'default', approve: 1, deny: 1 }],
      reviews: [
        {
          author: 'bob',
          state: 'APPROVED',
          reason: 'fine',
          created: '2026-11-21T10:01:00Z',
          roles: ['reviewer'],
          annotations: { why: ['because'] },
          assume_start_time: null,
        },
      ],
      annotations: { a: ['x', 'y'], ticket: ['42'] },
      system_annotations: {},
    });
  });

  it('turns year-1 and missing timestamps into null', () => {
    const req = requestFromProto(
      AccessRequestV3.fromPartial({
        metadata: { name: 'r1', expires: GO_ZERO },
        spec: { created: GO_ZERO, expires: new Date(-62_135_596_800_000 - 1000) },
      }),
    );
    expect([req.created, req.expires, req.access_expires, req.session_expires, req.max_duration]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    // The Unix epoch is a real time, not "unset".
    expect(requestFromProto(AccessRequestV3.fromPartial({ spec: { created: new Date(0) } })).created).toBe(
      '1970-01-01T00:00:00Z',
    );
  });

  it('reads a request with no spec or metadata as empty', () => {
    const req = requestFromProto(AccessRequestV3.fromPartial({}));
    expect(req).toMatchObject({ id: '', user: '', state: 'NONE', resources: [], reviews: [] });
  });
});

describe('resource IDs', () => {
  it.each([
    '/local/node/8c3e-uuid',
    '/root/kube:ns:deployments.apps/my-kube/prod/web',
    '/root/kube:cw:clusterroles.rbac.authorization.k8s.io/my-kube/admin',
    '/root/namespace/my-kube/prod',
  ])('%s survives model → proto → model', (s) => {
    const id = parseResourceId(s);
    const proto = resourceIdToProto(id);
    expect(proto.clusterName).toBe(id.cluster);
    expect(proto.subResourceName).toBe(id.subResource ?? '');
    expect(resourceIdFromProto(proto)).toEqual(id);
  });

  it('omits an empty sub-resource', () => {
    expect(resourceIdFromProto({ clusterName: 'c', kind: 'db', name: 'pg', subResourceName: '' })).toEqual({
      cluster: 'c',
      kind: 'db',
      name: 'pg',
    });
  });
});

describe('LabelValues', () => {
  it('converts both ways, keys sorted', () => {
    const rec = { team: ['db', 'ops'], env: ['prod'], empty: [] };
    const lv = recordToLabelValues(rec);
    expect(lv).toEqual({
      values: { team: { values: ['db', 'ops'] }, env: { values: ['prod'] }, empty: { values: [] } },
    });
    const back = labelValuesToRecord(lv);
    expect(back).toEqual(rec);
    expect(Object.keys(back)).toEqual(['empty', 'env', 'team']);
    expect(labelValuesToRecord(undefined)).toEqual({});
  });
});

describe('capabilitiesFromProto', () => {
  it('maps to our JSON names', () => {
    expect(
      capabilitiesFromProto(
        AccessCapabilities.fromPartial({
          requestableRoles: ['dba'],
          suggestedReviewers: ['bob'],
          applicableRolesForResources: ['node-access'],
          requestPrompt: 'why?',
          requireReason: true,
        }),
      ),
    ).toEqual({
      requestable_roles: ['dba'],
      suggested_reviewers: ['bob'],
      applicable_roles: ['node-access'],
      request_prompt: 'why?',
      require_reason: true,
      auto_request: false,
    });
  });
});

describe('search results', () => {
  const page = (resource: NonNullable<PaginatedResource['resource']>) =>
    PaginatedResource.fromPartial({ resource } as Parameters<typeof PaginatedResource.fromPartial>[0]);

  it('names a node by its UUID, with the hostname alongside', () => {
    const r = searchResultFromPaginated(
      page({
        $case: 'node',
        value: {
          kind: 'node',
          metadata: { name: '8c3e-uuid', labels: { env: 'prod', a: '1' } },
          spec: { hostname: 'web-1', addr: '', useTunnel: false, version: '' },
        } as never,
      }),
      'local',
    );
    expect(r).toEqual({
      kind: 'node',
      name: '8c3e-uuid',
      hostname: 'web-1',
      namespace: '',
      labels: { a: '1', env: 'prod' },
      resource_id: '/local/node/8c3e-uuid',
    });
    expect(Object.keys(r?.labels ?? {})).toEqual(['a', 'env']);
  });

  it('names databases and apps by the hosted resource', () => {
    const db = searchResultFromPaginated(
      page({
        $case: 'databaseServer',
        value: {
          metadata: { name: 'db-server-host' },
          spec: { database: { metadata: { name: 'postgres', labels: { engine: 'pg' } } } },
        } as never,
      }),
      'local',
    );
    expect(db).toMatchObject({
      kind: 'db',
      name: 'postgres',
      labels: { engine: 'pg' },
      resource_id: '/local/db/postgres',
    });

    const app = searchResultFromPaginated(
      page({
        $case: 'appServer',
        value: {
          metadata: { name: 'app-host' },
          spec: {
            app: { metadata: { name: 'grafana' }, spec: { publicAddr: 'grafana.example.com', uri: '' } },
          },
        } as never,
      }),
      'local',
    );
    expect(app).toMatchObject({
      kind: 'app',
      name: 'grafana',
      hostname: 'grafana.example.com',
      resource_id: '/local/app/grafana',
    });
  });

  it('maps Kubernetes clusters from either arm, and desktops from their header', () => {
    const kube = searchResultFromPaginated(
      page({
        $case: 'kubernetesServer',
        value: { spec: { cluster: { metadata: { name: 'my-kube' } } } } as never,
      }),
      'local',
    );
    expect(kube).toMatchObject({
      kind: 'kube_cluster',
      name: 'my-kube',
      resource_id: '/local/kube_cluster/my-kube',
    });
    const kube2 = searchResultFromPaginated(
      page({ $case: 'kubeCluster', value: { metadata: { name: 'k2' } } as never }),
      'local',
    );
    expect(kube2?.resource_id).toBe('/local/kube_cluster/k2');
    const desktop = searchResultFromPaginated(
      page({
        $case: 'windowsDesktop',
        value: { header: { metadata: { name: 'win-1' } }, spec: { addr: '10.0.0.5:3389' } } as never,
      }),
      'local',
    );
    expect(desktop).toMatchObject({
      kind: 'windows_desktop',
      name: 'win-1',
      hostname: '10.0.0.5:3389',
      resource_id: '/local/windows_desktop/win-1',
    });
    const group = searchResultFromPaginated(
      page({ $case: 'userGroup', value: { header: { metadata: { name: 'okta-eng' } } } as never }),
      'local',
    );
    expect(group).toMatchObject({
      kind: 'user_group',
      hostname: '',
      resource_id: '/local/user_group/okta-eng',
    });
    const sp = searchResultFromPaginated(
      page({
        $case: 'samlIdpServiceProvider',
        value: { header: { metadata: { name: 'grafana' } }, spec: { entityId: 'https://g/saml' } } as never,
      }),
      'local',
    );
    expect(sp).toMatchObject({
      kind: 'saml_idp_service_provider',
      hostname: 'https://g/saml',
      resource_id: '/local/saml_idp_service_provider/grafana',
    });
  });

  it('skips an arm it does not know', () => {
    expect(searchResultFromPaginated(PaginatedResource.fromPartial({}), 'local')).toBeUndefined();
  });

  it('builds Kubernetes resource IDs for namespaced and cluster-wide kinds', () => {
    const pod = KubernetesResourceV1.fromPartial({
      kind: 'pod',
      metadata: { name: 'nginx', labels: { app: 'web' } },
      spec: { namespace: 'default' },
    });
    expect(searchResultFromKubeResource(pod, 'local', 'my-kube')).toEqual({
      kind: 'kube:ns:pods',
      name: 'nginx',
      hostname: '',
      namespace: 'default',
      labels: { app: 'web' },
      resource_id: '/local/kube:ns:pods/my-kube/default/nginx',
    });
    const role = KubernetesResourceV1.fromPartial({
      kind: 'clusterroles',
      subKind: 'rbac.authorization.k8s.io',
      metadata: { name: 'admin' },
    });
    expect(searchResultFromKubeResource(role, 'local', 'my-kube').resource_id).toBe(
      '/local/kube:cw:clusterroles.rbac.authorization.k8s.io/my-kube/admin',
    );
    const deploy = KubernetesResourceV1.fromPartial({
      kind: 'deployment',
      metadata: { name: 'web' },
      spec: { namespace: 'prod' },
    });
    expect(
      searchResultFromKubeResource(deploy, 'local', 'my-kube', 'kube:ns:deployments.apps').resource_id,
    ).toBe('/local/kube:ns:deployments.apps/my-kube/prod/web');
    const ns = KubernetesResourceV1.fromPartial({ kind: 'namespace', metadata: { name: 'prod' } });
    expect(searchResultFromKubeResource(ns, 'local', 'my-kube').resource_id).toBe(
      '/local/namespace/my-kube/prod',
    );
    for (const r of [pod, role, deploy, ns]) {
      const id = searchResultFromKubeResource(r, 'local', 'my-kube').resource_id;
      expect(() => parseResourceId(id)).not.toThrow();
    }
  });
});
