/**
 * Direction 1: our client against a server built on Teleport's official Go types.
 * The Go side encodes fixed access requests with `types.AccessRequestV3` (gogo marshallers,
 * exactly what a real Auth Service writes) and records what it decoded from every call we
 * make, so both directions of each message are checked field by field.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, connect } from '../../src/client/connect.js';
import { recordToLabelValues, requestFromProto } from '../../src/client/map.js';
import { waitForResolution } from '../../src/client/wait.js';
import { Operation } from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import {
  type AccessRequestV3,
  RequestState,
  SignatureAlgorithmSuite,
} from '../../src/gen/teleport/legacy/types/types.js';
import type { LabelValues } from '../../src/gen/teleport/legacy/types/wrappers/wrappers.js';
import { readTlsTrio } from '../../src/identity/trio.js';
import { parseIdentity } from '../../src/identity/x509.js';
import { formatResourceId } from '../../src/model/resource-id.js';
import {
  asGoTimestamp,
  type FixturesServer,
  GO_ZERO_SECONDS,
  type GoTimestamp,
  goDate,
  goIso,
  runGo,
  startFixturesServer,
} from './helpers.js';

interface GoResourceId {
  clusterName: string;
  kind: string;
  name: string;
  subResourceName: string;
  string: string;
}

interface GoReview {
  author: string;
  roles: string[];
  proposedState: number;
  proposedStateName: string;
  reason: string;
  created: GoTimestamp;
  annotations: Record<string, string[]>;
  thresholdIndexes: number[];
  accessList: { name: string; title: string } | null;
  assumeStartTime: GoTimestamp | null;
}

/** An AccessRequestV3 as fixtures-server's view.go writes it. */
interface GoRequest {
  kind: string;
  subKind: string;
  version: string;
  expiry: GoTimestamp;
  metadata: {
    name: string;
    namespace: string;
    description: string;
    labels: Record<string, string>;
    expires: GoTimestamp | null;
    revision: string;
  };
  spec: {
    user: string;
    roles: string[];
    state: number;
    stateName: string;
    created: GoTimestamp;
    expires: GoTimestamp;
    requestReason: string;
    resolveReason: string;
    resolveAnnotations: Record<string, string[]>;
    systemAnnotations: Record<string, string[]>;
    thresholds: { name: string; filter: string; approve: number; deny: number }[];
    roleThresholdMapping: Record<string, { sets: { indexes: number[] }[] }>;
    reviews: GoReview[];
    suggestedReviewers: string[];
    requestedResourceIds: GoResourceId[];
    loginHint: string;
    dryRun: boolean;
    maxDuration: GoTimestamp;
    sessionTtl: GoTimestamp;
    accessList: { name: string; title: string } | null;
    assumeStartTime: GoTimestamp | null;
    resourceExpiry: GoTimestamp | null;
  };
}

const ID = {
  pending: '0194a6b0-0000-7000-8000-000000000001',
  approved: '0194a6b0-0000-7000-8000-000000000002',
  resources: '0194a6b0-0000-7000-8000-000000000003',
  unset: '0194a6b0-0000-7000-8000-000000000004',
  times: '0194a6b0-0000-7000-8000-000000000005',
  promoted: '0194a6b0-0000-7000-8000-000000000006',
};

function labelValues(m: Record<string, string[]>): LabelValues {
  const values: LabelValues['values'] = {};
  for (const [k, v] of Object.entries(m)) values[k] = { values: v };
  return { values };
}

/** What our generated decoder must produce for a request Go encoded. */
function expectedProto(g: GoRequest): AccessRequestV3 {
  const s = g.spec;
  return {
    kind: g.kind,
    subKind: g.subKind,
    version: g.version,
    metadata: {
      name: g.metadata.name,
      namespace: g.metadata.namespace,
      description: g.metadata.description,
      labels: g.metadata.labels,
      expires: goDate(g.metadata.expires),
      revision: g.metadata.revision,
    },
    spec: {
      user: s.user,
      roles: s.roles,
      state: s.state,
      created: goDate(s.created),
      expires: goDate(s.expires),
      requestReason: s.requestReason,
      resolveReason: s.resolveReason,
      resolveAnnotations: labelValues(s.resolveAnnotations),
      systemAnnotations: labelValues(s.systemAnnotations),
      thresholds: s.thresholds,
      roleThresholdMapping: s.roleThresholdMapping,
      reviews: s.reviews.map((r) => ({
        author: r.author,
        roles: r.roles,
        proposedState: r.proposedState,
        reason: r.reason,
        created: goDate(r.created),
        annotations: labelValues(r.annotations),
        thresholdIndexes: r.thresholdIndexes,
        accessList: r.accessList ?? undefined,
        assumeStartTime: goDate(r.assumeStartTime),
      })),
      suggestedReviewers: s.suggestedReviewers,
      requestedResourceIds: s.requestedResourceIds.map(({ string: _s, ...id }) => id),
      loginHint: s.loginHint,
      dryRun: s.dryRun,
      maxDuration: goDate(s.maxDuration),
      sessionTtl: goDate(s.sessionTtl),
      accessList: s.accessList ?? undefined,
      assumeStartTime: goDate(s.assumeStartTime),
      resourceExpiry: goDate(s.resourceExpiry),
      // The pinned api module predates DryRunEnrichment (field 23): Go never sends it.
      dryRunEnrichment: undefined,
    },
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('direction 1: our client reads and writes what Teleport Go encodes', () => {
  let fx: FixturesServer;
  let conn: Connection;
  let fixtures: GoRequest[];
  const byId = (id: string) => {
    const f = fixtures.find((r) => r.metadata.name === id);
    if (!f) throw new Error(`no fixture ${id}`);
    return f;
  };

  beforeAll(async () => {
    const dump = await runGo('fixtures-server', ['-dump']);
    expect(dump.code, dump.stderr).toBe(0);
    fixtures = (JSON.parse(dump.stdout) as { requests: GoRequest[] }).requests;
    fx = await startFixturesServer();
    conn = await connect({
      authServer: fx.addr,
      credentials: await readTlsTrio(fx.certPath, fx.keyPath, fx.caPath),
    });
  });

  afterAll(async () => {
    conn?.close();
    await fx?.stop();
  });

  it('serves the fixtures it dumped (sanity of the Go side)', () => {
    expect(fixtures.map((f) => f.metadata.name)).toEqual(Object.values(ID));
    expect(byId(ID.unset).spec.maxDuration).toEqual({ seconds: GO_ZERO_SECONDS, nanos: 0 });
    expect(byId(ID.unset).spec.assumeStartTime).toBeNull();
  });

  it('Ping: every field Go sets decodes', async () => {
    const pong = await conn.auth.ping({});
    expect(pong.clusterName).toBe('contract.example.com');
    expect(pong.serverVersion).toBe('18.0.0-dev');
    expect(pong.serverFeatures?.advancedAccessWorkflows).toBe(true);
    expect(pong.serverFeatures?.identityGovernance).toBe(true);
    expect(pong.proxyPublicAddr).toBe('proxy.contract.example.com:443');
    expect(pong.remoteAddr).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(pong.signatureAlgorithmSuite).toBe(SignatureAlgorithmSuite.SIGNATURE_ALGORITHM_SUITE_BALANCED_V1);
    expect(pong.licenseExpiry).toBeUndefined();
    expect((await fx.lastCall('Ping')).caller).toBe('alice');
  });

  it('GetAccessRequestsV2: every field of every fixture decodes exactly', async () => {
    const got = await collect(conn.auth.getAccessRequestsV2({}));
    expect(got.map((r) => r.metadata?.name)).toEqual(Object.values(ID));
    for (const [i, r] of got.entries())
      expect(r, fixtures[i].metadata.name).toEqual(expectedProto(fixtures[i]));
    const call = await fx.lastCall('GetAccessRequestsV2');
    expect(call.decoded).toEqual({ id: '', user: '', state: 0, searchKeywords: [], scope: 0, requester: '' });
  });

  it('GetAccessRequestsV2: the filter we send is the filter Go reads', async () => {
    const got = await collect(
      conn.auth.getAccessRequestsV2({ id: ID.approved, user: 'alice', state: RequestState.APPROVED }),
    );
    expect(got).toHaveLength(1);
    expect(got[0]).toEqual(expectedProto(byId(ID.approved)));
    expect((await fx.lastCall('GetAccessRequestsV2')).decoded).toEqual({
      id: ID.approved,
      user: 'alice',
      state: 2,
      searchKeywords: [],
      scope: 0,
      requester: '',
    });
  });

  it('ListAccessRequests: one page decodes like the stream', async () => {
    const page = await conn.auth.listAccessRequests({
      filter: { user: 'alice' },
      limit: 50,
      sort: 1,
      descending: true,
    });
    expect(page.nextKey).toBe('');
    expect(page.accessRequests.map((r) => r.metadata?.name)).toEqual(Object.values(ID));
    for (const [i, r] of page.accessRequests.entries()) expect(r).toEqual(expectedProto(fixtures[i]));
    expect((await fx.lastCall('ListAccessRequests')).decoded).toEqual({
      filter: { id: '', user: 'alice', state: 0, searchKeywords: [], scope: 0, requester: '' },
      sort: 1,
      descending: true,
      limit: 50,
      startKey: '',
    });
  });

  it('nanosecond timestamps: Date keeps milliseconds, within 1 ms of what Go sent', async () => {
    const [r] = await collect(conn.auth.getAccessRequestsV2({ id: ID.times }));
    expect(byId(ID.times).spec.created).toEqual({ seconds: 1741435200, nanos: 123456789 });
    expect(r.spec?.created?.toISOString()).toBe('2025-03-08T12:00:00.123Z');
    // ts-proto adds nanos/1e6 in floating point: .999999999 lands on the next second.
    expect(byId(ID.times).spec.reviews[0].created).toEqual({ seconds: 1741437000, nanos: 999_999_999 });
    expect(r.spec?.reviews[0].created?.toISOString()).toBe('2025-03-08T12:30:01.000Z');
  });

  it('requestFromProto: the model agrees with Go on every field it shows', async () => {
    const got = await collect(conn.auth.getAccessRequestsV2({}));
    for (const r of got) {
      const g = byId(r.metadata?.name ?? '');
      const m = requestFromProto(r);
      const name = g.metadata.name;
      expect(m.id, name).toBe(name);
      expect(m.user, name).toBe(g.spec.user);
      expect(m.roles, name).toEqual(g.spec.roles);
      expect(m.state, name).toBe(g.spec.stateName);
      expect(m.reason, name).toBe(g.spec.requestReason);
      expect(m.resolve_reason, name).toBe(g.spec.resolveReason);
      expect(m.suggested_reviewers, name).toEqual(g.spec.suggestedReviewers);
      expect(m.resources, name).toEqual(g.spec.requestedResourceIds.map((id) => id.string));
      expect(m.created, name).toBe(goIso(g.spec.created));
      expect(m.access_expires, name).toBe(goIso(g.spec.expires));
      expect(m.session_expires, name).toBe(goIso(g.spec.sessionTtl));
      expect(m.max_duration, name).toBe(goIso(g.spec.maxDuration));
      expect(m.assume_start_time, name).toBe(goIso(g.spec.assumeStartTime));
      expect(m.thresholds, name).toEqual(
        g.spec.thresholds.map(({ name: n, approve, deny }) => ({ name: n, approve, deny })),
      );
      expect(m.annotations, name).toEqual(g.spec.resolveAnnotations);
      expect(m.system_annotations, name).toEqual(g.spec.systemAnnotations);
      expect(m.reviews, name).toEqual(
        g.spec.reviews.map((rv) => ({
          author: rv.author,
          state: rv.proposedStateName,
          reason: rv.reason,
          created: goIso(rv.created),
          roles: rv.roles,
          annotations: rv.annotations,
          assume_start_time: goIso(rv.assumeStartTime),
        })),
      );
    }
  });

  it('requestFromProto: `expires` is when Go says the pending request lapses (AccessRequestV3.Expiry)', async () => {
    // Since spec.resource_expiry (22) exists, Teleport's SetExpiry writes the pending TTL
    // there and Expiry() falls back to metadata.expires only when it is unset.
    const got = await collect(conn.auth.getAccessRequestsV2({}));
    for (const r of got) {
      const g = byId(r.metadata?.name ?? '');
      expect(requestFromProto(r).expires, g.metadata.name).toBe(goIso(g.expiry));
    }
  });

  it('unset optional timestamps: Go writes year 1 or nothing; both read as unset', async () => {
    const [r] = await collect(conn.auth.getAccessRequestsV2({ id: ID.unset }));
    expect(r.spec?.maxDuration?.toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(r.spec?.sessionTtl?.toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(r.spec?.assumeStartTime).toBeUndefined();
    expect(r.spec?.resourceExpiry).toBeUndefined();
    expect(r.metadata?.expires).toBeUndefined();
    const m = requestFromProto(r);
    expect([m.max_duration, m.session_expires, m.assume_start_time, m.expires]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(m.access_expires).toBe('2030-03-07T00:00:00Z');
  });

  it('resource IDs: our formatter writes what Go ResourceIDToString writes', async () => {
    const [r] = await collect(conn.auth.getAccessRequestsV2({ id: ID.resources }));
    const ids = r.spec?.requestedResourceIds ?? [];
    expect(
      ids.map((id) =>
        formatResourceId({
          cluster: id.clusterName,
          kind: id.kind,
          name: id.name,
          subResource: id.subResourceName || undefined,
        }),
      ),
    ).toEqual(byId(ID.resources).spec.requestedResourceIds.map((id) => id.string));
    expect(ids[1]).toEqual({
      clusterName: 'contract.example.com',
      kind: 'kube:ns:pods',
      name: 'prod-kube',
      subResourceName: 'default/nginx',
    });
  });

  it('CreateAccessRequestV2: Go decodes what our client sends, and unset times stay unset', async () => {
    const created = new Date('2025-05-01T10:00:00.250Z');
    const sessionEnd = new Date('2030-05-01T18:00:00Z');
    const req = {
      kind: 'access_request',
      version: 'v3',
      metadata: {
        name: '0194a6b0-0000-7000-8000-0000000000a1',
        namespace: 'default',
        expires: new Date('2030-05-02T10:00:00Z'),
      },
      spec: {
        user: 'alice',
        roles: ['dba', 'auditor'],
        requestReason: 'INC-77: restore replica',
        suggestedReviewers: ['bob', 'carol'],
        requestedResourceIds: [
          { clusterName: 'contract.example.com', kind: 'node', name: '4f6c1b5e-9b8e-4c59-a4c9-2f1f6d1a7e10' },
          {
            clusterName: 'contract.example.com',
            kind: 'kube:ns:pods',
            name: 'prod-kube',
            subResourceName: 'default/nginx',
          },
        ],
        created,
        expires: sessionEnd,
        sessionTtl: sessionEnd,
        maxDuration: new Date('2030-05-03T10:00:00Z'),
        assumeStartTime: new Date('2030-05-01T12:00:00.5Z'),
        resourceExpiry: new Date('2030-05-02T10:00:00Z'),
        dryRun: true,
        loginHint: 'postgres',
      },
    };
    const out = await conn.auth.createAccessRequestV2(req);
    expect(out.metadata?.name).toBe(req.metadata.name);
    const go = (await fx.lastCall('CreateAccessRequestV2')).decoded as unknown as GoRequest;
    expect(go.kind).toBe('access_request');
    expect(go.version).toBe('v3');
    expect(go.metadata.name).toBe(req.metadata.name);
    expect(go.metadata.expires).toEqual(asGoTimestamp(req.metadata.expires));
    expect(go.spec.user).toBe('alice');
    expect(go.spec.roles).toEqual(['dba', 'auditor']);
    expect(go.spec.state).toBe(0);
    expect(go.spec.requestReason).toBe(req.spec.requestReason);
    expect(go.spec.suggestedReviewers).toEqual(['bob', 'carol']);
    expect(go.spec.requestedResourceIds.map((id) => id.string)).toEqual([
      '/contract.example.com/node/4f6c1b5e-9b8e-4c59-a4c9-2f1f6d1a7e10',
      '/contract.example.com/kube:ns:pods/prod-kube/default/nginx',
    ]);
    expect(go.spec.requestedResourceIds[1].subResourceName).toBe('default/nginx');
    expect(go.spec.created).toEqual(asGoTimestamp(created));
    expect(go.spec.expires).toEqual(asGoTimestamp(sessionEnd));
    expect(go.spec.sessionTtl).toEqual(asGoTimestamp(sessionEnd));
    expect(go.spec.maxDuration).toEqual(asGoTimestamp(req.spec.maxDuration));
    expect(go.spec.assumeStartTime).toEqual(asGoTimestamp(req.spec.assumeStartTime));
    expect(go.spec.assumeStartTime?.nanos).toBe(500_000_000);
    expect(go.spec.resourceExpiry).toEqual(asGoTimestamp(req.spec.resourceExpiry));
    expect(go.spec.dryRun).toBe(true);
    expect(go.spec.loginHint).toBe('postgres');

    // Omitted timestamps must reach Go as its zero time / nil, never as 1970.
    await conn.auth.createAccessRequestV2({
      metadata: { name: '0194a6b0-0000-7000-8000-0000000000a2' },
      spec: { user: 'alice', roles: ['dba'] },
    });
    const bare = (await fx.lastCall('CreateAccessRequestV2')).decoded as unknown as GoRequest;
    for (const t of [bare.spec.created, bare.spec.expires, bare.spec.maxDuration, bare.spec.sessionTtl]) {
      expect(t).toEqual({ seconds: GO_ZERO_SECONDS, nanos: 0 });
    }
    expect([bare.spec.assumeStartTime, bare.spec.resourceExpiry, bare.metadata.expires]).toEqual([
      null,
      null,
      null,
    ]);
  });

  it('SubmitAccessReview: Go decodes the review; the returned request decodes', async () => {
    const created = new Date('2025-05-01T11:00:00.125Z');
    const start = new Date('2030-05-01T09:00:00Z');
    const out = await conn.auth.submitAccessReview({
      requestId: ID.pending,
      review: {
        author: 'bob',
        roles: ['reviewer'],
        proposedState: RequestState.DENIED,
        reason: 'not during the freeze',
        created,
        annotations: recordToLabelValues({ ticket: ['OPS-9'], severity: ['low', 'info'] }),
        assumeStartTime: start,
      },
    });
    const call = await fx.lastCall('SubmitAccessReview');
    expect(call.decoded).toEqual({
      requestId: ID.pending,
      review: {
        author: 'bob',
        roles: ['reviewer'],
        proposedState: 3,
        proposedStateName: 'DENIED',
        reason: 'not during the freeze',
        created: asGoTimestamp(created),
        annotations: { ticket: ['OPS-9'], severity: ['low', 'info'] },
        thresholdIndexes: [],
        accessList: null,
        assumeStartTime: asGoTimestamp(start),
      },
    });
    expect(out.spec?.reviews).toHaveLength(2);
    expect(out.spec?.reviews[1]).toMatchObject({
      author: 'bob',
      proposedState: RequestState.DENIED,
      created,
      assumeStartTime: start,
    });
  });

  it('SetAccessRequestState: Go decodes id, state, reason, annotations, roles, delegator and start time', async () => {
    const start = new Date('2030-06-01T08:00:00Z');
    await conn.auth.setAccessRequestState({
      id: ID.pending,
      state: RequestState.APPROVED,
      reason: 'approved for dba only',
      annotations: recordToLabelValues({ approved_by: ['admin'] }),
      roles: ['dba'],
      delegator: 'slack:U123',
      assumeStartTime: start,
    });
    expect((await fx.lastCall('SetAccessRequestState')).decoded).toEqual({
      id: ID.pending,
      state: 2,
      stateName: 'APPROVED',
      delegator: 'slack:U123',
      reason: 'approved for dba only',
      annotations: { approved_by: ['admin'] },
      roles: ['dba'],
      assumeStartTime: asGoTimestamp(start),
    });
  });

  it('DeleteAccessRequest: Go decodes the ID', async () => {
    await conn.auth.deleteAccessRequest({ id: ID.unset });
    expect((await fx.lastCall('DeleteAccessRequest')).decoded).toEqual({ id: ID.unset });
  });

  it('GetAccessCapabilities: both directions', async () => {
    const caps = await conn.auth.getAccessCapabilities({
      user: 'alice',
      requestableRoles: true,
      suggestedReviewers: true,
      resourceIds: [
        {
          clusterName: 'contract.example.com',
          kind: 'kube:ns:pods',
          name: 'prod-kube',
          subResourceName: 'dev/web',
        },
      ],
      login: 'root',
      filterRequestableRolesByResource: true,
    });
    expect(caps).toEqual({
      requestableRoles: ['auditor', 'dba'],
      suggestedReviewers: ['bob', 'carol'],
      applicableRolesForResources: ['node-access'],
      requestPrompt: 'Which ticket is this for?',
      requireReason: true,
      autoRequest: false,
    });
    expect((await fx.lastCall('GetAccessCapabilities')).decoded).toEqual({
      user: 'alice',
      requestableRoles: true,
      suggestedReviewers: true,
      resourceIds: [
        {
          clusterName: 'contract.example.com',
          kind: 'kube:ns:pods',
          name: 'prod-kube',
          subResourceName: 'dev/web',
          string: '/contract.example.com/kube:ns:pods/prod-kube/dev/web',
        },
      ],
      login: 'root',
      filterRequestableRolesByResource: true,
    });
  });

  it('WatchEvents: Go accepts our filter map; INIT, PUT and DELETE decode', async () => {
    const abort = new AbortController();
    const events = [];
    for await (const ev of conn.auth.watchEvents(
      { kinds: [{ kind: 'access_request', filter: { id: ID.approved } }] },
      { signal: abort.signal },
    )) {
      events.push(ev);
      if (events.length === 3) break;
    }
    abort.abort();
    expect(events.map((e) => e.type)).toEqual([Operation.INIT, Operation.PUT, Operation.DELETE]);
    const [init, put, del] = events;
    expect(init.resource?.$case).toBe('watchStatus');
    if (init.resource?.$case === 'watchStatus') {
      expect(init.resource.value.kind).toBe('watch_status');
      expect(init.resource.value.metadata?.name).toBe('watch-status');
      expect(init.resource.value.spec?.kinds).toEqual([
        {
          kind: 'access_request',
          loadSecrets: false,
          name: '',
          filter: { id: ID.approved },
          subKind: '',
          version: '',
        },
      ]);
    }
    expect(put.resource?.$case).toBe('accessRequest');
    if (put.resource?.$case === 'accessRequest')
      expect(put.resource.value).toEqual(expectedProto(byId(ID.approved)));
    expect(del.resource).toEqual({
      $case: 'resourceHeader',
      value: {
        kind: 'access_request',
        subKind: '',
        version: 'v3',
        metadata: {
          name: ID.approved,
          namespace: 'default',
          description: '',
          labels: {},
          expires: undefined,
          revision: '',
        },
      },
    });
    const call = await fx.lastCall('WatchEvents');
    expect(call.decoded).toEqual({
      allowPartialSuccess: false,
      kinds: [
        {
          kind: 'access_request',
          subKind: '',
          name: '',
          loadSecrets: false,
          version: '',
          filter: { id: ID.approved },
          filterParseErr: '',
          parsedFilter: { id: ID.approved, user: '', state: 0, searchKeywords: [], scope: 0, requester: '' },
        },
      ],
    });
  });

  it('waitForResolution reads Go-encoded requests: approved on the first read; a pending one past its expiry ends the wait', async () => {
    expect((await waitForResolution(conn, ID.approved, { timeoutMs: 15_000 })).outcome).toBe('approved');
    // The pending fixture lapsed in 2025: the waiter stops by itself rather than wait for a
    // DELETE that some backends send up to 48 hours late (access_request_cache.go).
    expect((await waitForResolution(conn, ID.pending, { timeoutMs: 15_000 })).outcome).toBe('expired');
  });

  it('GenerateUserCerts: Go decodes the key and request IDs; the certificate names them', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const expires = new Date('2030-01-01T00:00:00Z');
    const certs = await conn.auth.generateUserCerts({
      username: 'alice',
      tlsPublicKey: Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
      expires,
      routeToCluster: 'contract.example.com',
      accessRequests: [ID.approved],
    });
    expect((await fx.lastCall('GenerateUserCerts')).decoded).toEqual({
      username: 'alice',
      expires: asGoTimestamp(expires),
      routeToCluster: 'contract.example.com',
      accessRequests: [ID.approved],
      dropAccessRequests: [],
      useRoleRequests: false,
      roleRequests: [],
      usage: 0,
      hasTlsPublicKey: true,
      hasSshPublicKey: false,
      hasLegacyPublicKey: false,
    });
    const identity = parseIdentity(certs.tls.toString('utf8'));
    expect(identity.username).toBe('alice');
    expect(identity.activeRequests).toEqual([ID.approved]);
    expect(identity.teleportCluster).toBe('contract.example.com');
    expect(certs.tlsCaCerts).toHaveLength(1);
  });
});

describe('direction 1: an RSA (PKCS#1) trio, as legacy clusters issue', () => {
  let fx: FixturesServer;
  afterAll(async () => {
    await fx?.stop();
  });

  it('reads the trio and pings', async () => {
    fx = await startFixturesServer({ key: 'rsa' });
    const creds = await readTlsTrio(fx.certPath, fx.keyPath, fx.caPath);
    expect(creds.keyPem).toContain('BEGIN RSA PRIVATE KEY');
    const conn = await connect({ authServer: fx.addr, credentials: creds });
    try {
      expect((await conn.auth.ping({})).clusterName).toBe('contract.example.com');
      expect(conn.identity.username).toBe('alice');
      expect(conn.identity.roles).toEqual(['requester']);
    } finally {
      conn.close();
    }
  });
});
