/**
 * Access Monitoring Rules in the embedded server (issue 14): the service with Teleport's
 * verbs, durable storage, condition errors with positions, and the builtin automatic review
 * of RFD 0201 (bot author, DENIED wins, thresholds apply).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessMonitoringRule } from '../../src/gen/teleport/accessmonitoringrules/v1/access_monitoring_rules.js';
import { Watch } from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import {
  AccessRequestFilter,
  AccessRequestV3,
  RequestState,
} from '../../src/gen/teleport/legacy/types/types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { connectIdentity, failure, StreamQueue, type TestClient } from '../helpers/grpc.js';

function rule(
  name: string,
  condition: string,
  extra: Partial<NonNullable<AccessMonitoringRule['spec']>> = {},
): AccessMonitoringRule {
  return {
    kind: 'access_monitoring_rule',
    subKind: '',
    version: 'v1',
    metadata: { name, namespace: '', description: '', labels: {}, expires: undefined, revision: '' },
    spec: {
      subjects: ['access_request'],
      states: [],
      condition,
      notification: { name: 'webhook', recipients: ['https://example.com/hook'] },
      automaticReview: undefined,
      desiredState: '',
      schedules: {},
      ...extra,
    },
  };
}

function unary<Q, R>(client: object, method: string, req: Q): Promise<R> {
  return new Promise((resolve, reject) => {
    (client as Record<string, (q: Q, cb: (e: ServiceError | null, r: R) => void) => void>)[method](
      req,
      (e, r) => (e ? reject(e) : resolve(r)),
    );
  });
}

let dir: string;
let server: RunningServer;
let admin: TestClient;
let alice: TestClient;

async function connect(): Promise<void> {
  admin = await connectIdentity(server.addr, server.identityPath('admin'));
  alice = await connectIdentity(server.addr, server.identityPath('alice'));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-amr-'));
  server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
  await connect();
});

afterAll(async () => {
  admin.close();
  alice.close();
  await server.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
});

const create = (c: TestClient, r: AccessMonitoringRule) =>
  unary<unknown, AccessMonitoringRule>(c.amr, 'createAccessMonitoringRule', { rule: r });
const list = (c: TestClient) =>
  unary<unknown, { rules: AccessMonitoringRule[]; nextPageToken: string }>(
    c.amr,
    'listAccessMonitoringRules',
    {
      pageSize: 0,
      pageToken: '',
    },
  );
const del = (c: TestClient, name: string) => unary(c.amr, 'deleteAccessMonitoringRule', { name });

describe('AccessMonitoringRulesService', () => {
  it('creates, gets, updates, lists and deletes with the access_monitoring_rule verbs', async () => {
    const created = await create(admin, rule('route-dba', 'access_request.spec.roles.contains("dba")'));
    expect(created.metadata?.name).toBe('route-dba');
    expect(
      (await failure(create(admin, rule('route-dba', 'true')))).code,
      'a second create of the same name',
    ).toBe(6);
    const got = await unary<unknown, AccessMonitoringRule>(admin.amr, 'getAccessMonitoringRule', {
      name: 'route-dba',
    });
    expect(got.spec?.condition).toBe('access_request.spec.roles.contains("dba")');
    await unary(admin.amr, 'updateAccessMonitoringRule', {
      rule: rule('route-dba', 'contains_any(access_request.spec.roles, set("dba", "auditor"))'),
    });
    expect((await list(admin)).rules.map((r) => [r.metadata?.name, r.spec?.condition])).toEqual([
      ['route-dba', 'contains_any(access_request.spec.roles, set("dba", "auditor"))'],
    ]);
    const filtered = await unary<unknown, { rules: AccessMonitoringRule[] }>(
      admin.amr,
      'listAccessMonitoringRulesWithFilter',
      {
        pageSize: 0,
        pageToken: '',
        subjects: ['access_request'],
        notificationName: 'slack',
        automaticReviewName: '',
      },
    );
    expect(filtered.rules).toEqual([]);
    await del(admin, 'route-dba');
    expect((await failure(del(admin, 'route-dba'))).code).toBe(5);
  });

  it('refuses a requester (no access_monitoring_rule rules) with Teleport message', async () => {
    expect(await failure(create(alice, rule('mine', 'true')))).toEqual({
      code: 7,
      details: 'access denied to perform action "create" on "access_monitoring_rule"',
    });
    expect((await failure(list(alice))).details).toBe(
      'access denied to perform action "read" on "access_monitoring_rule"',
    );
  });

  it('refuses a bad condition with its position and stores nothing', async () => {
    expect(await failure(create(admin, rule('bad', 'access_request.spec.roles.contains("dba"')))).toEqual({
      code: 3,
      details: 'accessMonitoringRule condition: expected ")" but found end of expression at position 40',
    });
    expect((await failure(create(admin, rule('bad', 'user.trait["team"].contains("x")')))).details).toBe(
      'accessMonitoringRule condition: unknown identifier "user.trait.team" at position 0',
    );
    expect((await list(admin)).rules).toEqual([]);
  });

  it('delivers rule changes on the watch stream to a caller with read, refuses one without', async () => {
    const watch = Watch.fromPartial({ kinds: [{ kind: 'access_monitoring_rule', filter: {} }] });
    const q = new StreamQueue(admin.auth.watchEvents(watch));
    try {
      expect((await q.next()).resource?.$case).toBe('watchStatus');
      await create(admin, rule('watched', 'true'));
      const put = await q.next();
      expect(put.resource?.$case === 'accessMonitoringRule' && put.resource.value.metadata?.name).toBe(
        'watched',
      );
      await del(admin, 'watched');
      const gone = await q.next();
      expect(
        gone.resource?.$case === 'resourceHeader' && [
          gone.resource.value.kind,
          gone.resource.value.metadata?.name,
        ],
      ).toEqual(['access_monitoring_rule', 'watched']);
    } finally {
      q.stream.cancel();
    }
    const refused = new StreamQueue(alice.auth.watchEvents(watch));
    const err = await refused.next().then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect([err?.code, err?.details]).toEqual([
      7,
      'access denied to perform action "read" on "access_monitoring_rule"',
    ]);
  });

  it('keeps rules across a restart', async () => {
    await create(admin, rule('durable', 'true'));
    admin.close();
    alice.close();
    await server.stop({ graceMs: 500 });
    server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
    await connect();
    expect((await list(admin)).rules.map((r) => r.metadata?.name)).toEqual(['durable']);
    await del(admin, 'durable');
  });
});

describe('automatic review (RFD 0201)', () => {
  const review = (decision: 'APPROVED' | 'DENIED') => ({
    desiredState: 'reviewed',
    automaticReview: { integration: 'builtin', decision },
    notification: undefined,
  });
  const request = (roles: string[]) =>
    alice.call(
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({ spec: { user: 'alice', roles, requestReason: 'ticket 1' } }),
    );
  const read = async (id: string) =>
    (await admin.collect('getAccessRequestsV2', AccessRequestFilter.fromPartial({ id })))[0];

  it('approves a matching request under the bot author; thresholds still apply', async () => {
    await create(
      admin,
      rule('auto-approve', 'contains_all(user.traits["team"], set("dev"))', review('APPROVED')),
    );
    try {
      const auditor = await request(['auditor']);
      const after = (await read(auditor.metadata!.name)) as AccessRequestV3;
      expect(after.spec?.state).toBe(RequestState.APPROVED);
      expect(after.spec?.reviews.map((r) => [r.author, r.reason])).toEqual([
        [
          '@teleport-access-approval-bot',
          'Access request has been automatically approved by "@teleport-access-approval-bot". User "alice" is approved by access_monitoring_rule "auto-approve".',
        ],
      ]);
      // dba needs two approvals (dba-requester's threshold): one automatic review is not enough.
      const dba = await request(['dba']);
      const pending = (await read(dba.metadata!.name)) as AccessRequestV3;
      expect(pending.spec?.state).toBe(RequestState.PENDING);
      expect(pending.spec?.reviews.map((r) => r.author)).toEqual(['@teleport-access-approval-bot']);
    } finally {
      await del(admin, 'auto-approve');
    }
  });

  it('lets DENIED win over APPROVED', async () => {
    await create(admin, rule('a-approve', 'true', review('APPROVED')));
    await create(admin, rule('b-deny', 'access_request.spec.roles.contains("auditor")', review('DENIED')));
    try {
      const req = await request(['auditor']);
      const after = (await read(req.metadata!.name)) as AccessRequestV3;
      expect(after.spec?.state).toBe(RequestState.DENIED);
      expect(after.spec?.reviews.map((r) => r.reason)).toEqual([
        'Access request has been automatically denied by "@teleport-access-approval-bot". User "alice" is denied by access_monitoring_rule "b-deny".',
      ]);
    } finally {
      await del(admin, 'a-approve');
      await del(admin, 'b-deny');
    }
  });
});
