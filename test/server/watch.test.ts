import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Event, Operation } from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import { AccessRequestV3, RequestState } from '../../src/gen/teleport/legacy/types/types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { connectIdentity, type StreamQueue, type TestClient, watchRequests } from '../helpers/grpc.js';

// alice may request dba (reviewed by bob) and auditor (reviewed by carol); admin may delete.
const SEED = `
kind: role
version: v7
metadata: {name: requester}
spec:
  allow:
    request:
      roles: [dba, auditor]
---
kind: role
version: v7
metadata: {name: dba}
spec: {}
---
kind: role
version: v7
metadata: {name: auditor}
spec: {}
---
kind: role
version: v7
metadata: {name: dba-reviewer}
spec:
  allow:
    review_requests: {roles: [dba]}
---
kind: role
version: v7
metadata: {name: auditor-reviewer}
spec:
  allow:
    review_requests: {roles: [auditor]}
---
kind: role
version: v7
metadata: {name: admin}
spec:
  allow:
    rules:
      - resources: [access_request]
        verbs: [list, read, update, delete, create]
      - resources: [node]
        verbs: [read]
      - resources: [access_monitoring_rule]
        verbs: [read, create]
---
kind: user
version: v2
metadata: {name: alice}
spec: {roles: [requester]}
---
kind: user
version: v2
metadata: {name: bob}
spec: {roles: [dba-reviewer]}
---
kind: user
version: v2
metadata: {name: carol}
spec: {roles: [auditor-reviewer]}
---
kind: user
version: v2
metadata: {name: admin}
spec: {roles: [admin]}
`;

let dir: string;
let server: RunningServer;
let offsetMs = 0;
const clients: Record<string, TestClient> = {};
const watches: StreamQueue<Event>[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-watch-'));
  await writeFile(join(dir, 'seed.yaml'), SEED);
  server = await startServer({
    dataDir: join(dir, 'data'),
    listen: '127.0.0.1:0',
    seedFile: join(dir, 'seed.yaml'),
    now: () => new Date(Date.now() + offsetMs),
    sweepIntervalMs: 50,
  });
  for (const user of ['alice', 'bob', 'carol', 'admin']) {
    clients[user] = await connectIdentity(server.addr, server.identityPath(user));
  }
});

afterAll(async () => {
  for (const w of watches) w.cancel();
  for (const c of Object.values(clients)) c.close();
  await server?.stop({ graceMs: 1000 });
  await rm(dir, { recursive: true, force: true });
});

async function watch(user: string, filter: Record<string, string> = {}): Promise<StreamQueue<Event>> {
  const w = watchRequests(clients[user], filter);
  watches.push(w);
  const init = await w.next();
  expect(init.type).toBe(Operation.INIT);
  expect(init.resource?.$case).toBe('watchStatus');
  if (init.resource?.$case === 'watchStatus') {
    expect(init.resource.value).toMatchObject({
      kind: 'watch_status',
      version: 'v1',
      metadata: { name: 'watch-status' },
      spec: { kinds: [{ kind: 'access_request', filter }] },
    });
  }
  return w;
}

/** The status a watch ends with before any event arrives. */
function refusal(w: StreamQueue<Event>): Promise<{ code: number; details: string }> {
  watches.push(w);
  return w.next().then(
    (e) => {
      throw new Error(`expected a refusal, got ${describeEvent(e)}`);
    },
    (err: { code: number; details: string }) => ({ code: err.code, details: err.details }),
  );
}

function create(roles: string[]): Promise<AccessRequestV3> {
  return clients.alice.call(
    'createAccessRequestV2',
    AccessRequestV3.fromPartial({
      metadata: { name: randomUUID() },
      spec: { user: 'alice', roles, requestReason: 'watch' },
    }),
  );
}

function describeEvent(e: Event): string {
  const r = e.resource;
  if (r?.$case === 'accessRequest')
    return `${Operation[e.type]} ${r.value.metadata?.name} ${RequestState[r.value.spec!.state]}`;
  if (r?.$case === 'resourceHeader')
    return `${Operation[e.type]} ${r.value.metadata?.name} ${r.value.kind}/${r.value.version}`;
  return `${Operation[e.type]} ${r?.$case}`;
}

describe('WatchEvents', () => {
  it('delivers INIT, then PUT on creation and approval, then DELETE on removal', async () => {
    const w = await watch('alice', { user: 'alice' });
    const req = await create(['dba']);
    const id = req.metadata!.name;
    expect(describeEvent(await w.next())).toBe(`PUT ${id} PENDING`);
    await clients.bob.call('submitAccessReview', {
      requestId: id,
      review: {
        author: '',
        roles: [],
        proposedState: RequestState.APPROVED,
        reason: 'ok',
        created: undefined,
        annotations: undefined,
        thresholdIndexes: [],
        accessList: undefined,
        assumeStartTime: undefined,
      },
    });
    const approved = await w.next();
    expect(describeEvent(approved)).toBe(`PUT ${id} APPROVED`);
    if (approved.resource?.$case === 'accessRequest') {
      expect(approved.resource.value.spec?.reviews.map((r) => r.author)).toEqual(['bob']);
    }
    await clients.admin.call('deleteAccessRequest', { id });
    const deleted = await w.next();
    expect(describeEvent(deleted)).toBe(`DELETE ${id} access_request/v3`);
    if (deleted.resource?.$case === 'resourceHeader')
      expect(deleted.resource.value.metadata?.namespace).toBe('default');
  });

  it('filters PUT by id and state', async () => {
    const first = await create(['dba']);
    const w = await watch('admin', { id: first.metadata!.name, state: 'APPROVED' });
    await create(['dba']);
    await clients.admin.call('setAccessRequestState', {
      id: first.metadata!.name,
      state: RequestState.APPROVED,
      delegator: '',
      reason: 'by admin',
      annotations: undefined,
      roles: [],
      assumeStartTime: undefined,
    });
    expect(describeEvent(await w.next())).toBe(`PUT ${first.metadata!.name} APPROVED`);
  });

  it('lets a user without rules watch only their own requests (auth_with_roles.go: hasWatchPermissionForKind)', async () => {
    const denied = { code: 7, details: 'access denied to perform action "read" on "access_request"' };
    expect(await refusal(watchRequests(clients.alice))).toEqual(denied);
    expect(await refusal(watchRequests(clients.alice, { id: 'x' }))).toEqual(denied);
    expect(await refusal(watchRequests(clients.bob, { user: 'alice' }))).toEqual(denied);
    const bob = await watch('bob', { user: 'bob' });
    const admin = await watch('admin');
    const dba = await create(['dba']);
    expect(describeEvent(await admin.next())).toBe(`PUT ${dba.metadata!.name} PENDING`);
    await clients.admin.call('deleteAccessRequest', { id: dba.metadata!.name });
    expect(describeEvent(await admin.next())).toBe(`DELETE ${dba.metadata!.name} access_request/v3`);
    // PUTs are filtered (alice's request never reached bob); a DELETE is not, as in Teleport.
    expect(describeEvent(await bob.next())).toBe(`DELETE ${dba.metadata!.name} access_request/v3`);
  });

  it('delivers an event only to kinds that match it, by kind then name (api/types/events.go: WatchKind.Matches)', async () => {
    const kind = (k: string, name = '', filter: Record<string, string> = {}) => ({
      kind: k,
      loadSecrets: false,
      name,
      filter,
      subKind: '',
      version: '',
    });
    const first = await create(['dba']);
    const second = await create(['dba']);
    const start = (k: ReturnType<typeof kind>) => {
      const w = watchRequests(clients.admin, {}, [k]);
      watches.push(w);
      return w;
    };
    const rules = start(kind('access_monitoring_rule'));
    const named = start(kind('access_request', second.metadata!.name));
    const aliceOnly = start(kind('access_request', '', { user: 'alice' }));
    for (const w of [rules, named, aliceOnly]) expect((await w.next()).type).toBe(Operation.INIT);
    await clients.admin.call('deleteAccessRequest', { id: first.metadata!.name });
    await clients.admin.call('deleteAccessRequest', { id: second.metadata!.name });
    expect(describeEvent(await named.next())).toBe(`DELETE ${second.metadata!.name} access_request/v3`);
    expect(describeEvent(await aliceOnly.next())).toBe(`DELETE ${first.metadata!.name} access_request/v3`);
    expect(describeEvent(await aliceOnly.next())).toBe(`DELETE ${second.metadata!.name} access_request/v3`);
    // A rule change is the first thing the rule watcher sees: no access_request DELETE came before it.
    await new Promise((resolve, reject) =>
      clients.admin.amr.createAccessMonitoringRule(
        {
          rule: {
            kind: 'access_monitoring_rule',
            subKind: '',
            version: 'v1',
            metadata: {
              name: 'watched',
              namespace: '',
              description: '',
              labels: {},
              expires: undefined,
              revision: '',
            },
            spec: {
              subjects: ['access_request'],
              states: [],
              condition: 'true',
              notification: { name: 'webhook', recipients: ['https://example.com/hook'] },
              automaticReview: undefined,
              desiredState: '',
              schedules: {},
            },
          },
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
    expect(describeEvent(await rules.next())).toBe('PUT accessMonitoringRule');
  });

  it('emits DELETE when the sweeper removes an expired request', async () => {
    const w = await watch('alice', { user: 'alice' });
    const req = await create(['auditor']);
    const id = req.metadata!.name;
    expect(describeEvent(await w.next())).toBe(`PUT ${id} PENDING`);
    // Move the server clock past the request's expiry; the sweeper runs every 50ms.
    offsetMs = req.metadata!.expires!.getTime() - Date.now() + 1000;
    try {
      const events: string[] = [];
      for (;;) {
        const e = describeEvent(await w.next(5000));
        events.push(e);
        if (e === `DELETE ${id} access_request/v3`) break;
      }
      expect(events.at(-1)).toBe(`DELETE ${id} access_request/v3`);
      const left = await clients.admin.call('listAccessRequests', {
        filter: { id, user: '', state: 0, searchKeywords: [], scope: 0, requester: '' },
        sort: 0,
        descending: false,
        limit: 0,
        startKey: '',
      });
      expect(left.accessRequests).toEqual([]);
    } finally {
      offsetMs = 0;
    }
  });

  it('checks read on another kind first (hasWatchPermissionForKind), then refuses it as unsupported', async () => {
    for (const [user, code, details] of [
      ['alice', 7, 'access denied to perform action "read" on "node"'],
      ['admin', 3, 'watcher: unsupported kind "node"'],
    ] as const) {
      const node = clients[user].auth.watchEvents({
        kinds: [{ kind: 'node', loadSecrets: false, name: '', filter: {}, subKind: '', version: '' }],
        allowPartialSuccess: false,
      });
      await expect(
        new Promise((_, reject) => {
          node.on('error', reject);
          node.on('data', () => reject(new Error('unexpected event')));
        }),
      ).rejects.toMatchObject({ code, details });
    }
  });

  it('rejects unknown filter keys with InvalidArgument', async () => {
    const badKey = clients.alice.auth.watchEvents({
      kinds: [
        {
          kind: 'access_request',
          loadSecrets: false,
          name: '',
          filter: { color: 'red' },
          subKind: '',
          version: '',
        },
      ],
      allowPartialSuccess: false,
    });
    await expect(
      new Promise((_, reject) => {
        badKey.on('error', reject);
      }),
    ).rejects.toMatchObject({ code: 3, details: 'unknown filter key color' });
  });

  it('leaves unsupported kinds out of INIT with AllowPartialSuccess', async () => {
    const stream = clients.alice.auth.watchEvents({
      kinds: [
        { kind: 'node', loadSecrets: false, name: '', filter: {}, subKind: '', version: '' },
        {
          kind: 'access_request',
          loadSecrets: false,
          name: '',
          filter: { user: 'alice' },
          subKind: '',
          version: '',
        },
      ],
      allowPartialSuccess: true,
    });
    const init = await new Promise<Event>((resolve, reject) => {
      stream.once('data', resolve);
      stream.once('error', reject);
    });
    stream.cancel();
    expect(
      init.resource?.$case === 'watchStatus' && init.resource.value.spec?.kinds.map((k) => k.kind),
    ).toEqual(['access_request']);
  });
});
