import { randomUUID } from 'node:crypto';
/**
 * Rules the embedded server enforces because Teleport does (issue 9), each asserted with
 * Teleport's gRPC code and message: admin actions under admin MFA, impersonated
 * certificates, and listing order and scopes.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessRequestSort,
  UserCertsRequest,
} from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import {
  AccessRequestScope,
  AccessRequestV3,
  AccessReview,
  RequestState,
} from '../../src/gen/teleport/legacy/types/types.js';
import { generateKey } from '../../src/identity/keys.js';
import { parseIdentity } from '../../src/identity/x509.js';
import { type Cluster, demoCluster } from '../helpers/cluster.js';
import { connectIdentity, failure, type TestClient } from '../helpers/grpc.js';

const MFA = 'admin-level API request requires MFA verification';

const createFor = (client: TestClient, user: string, roles: string[]) =>
  client.call(
    'createAccessRequestV2',
    AccessRequestV3.fromPartial({
      metadata: { name: randomUUID() },
      spec: { user, roles, requestReason: 'rules test' },
    }),
  );

const review = (client: TestClient, id: string, state = RequestState.APPROVED) =>
  client.call('submitAccessReview', {
    requestId: id,
    review: AccessReview.fromPartial({ proposedState: state, reason: 'rules test' }),
  });

const setState = (client: TestClient, id: string, state: RequestState) =>
  client.call('setAccessRequestState', {
    id,
    state,
    reason: '',
    annotations: undefined,
    roles: [],
    delegator: '',
    assumeStartTime: undefined,
  });

async function certsRequest(
  username: string,
  extra: Partial<UserCertsRequest> = {},
): Promise<UserCertsRequest> {
  const key = await generateKey('ecdsa-p256');
  return UserCertsRequest.fromPartial({
    username,
    tlsPublicKey: Buffer.from(key.publicKeyPem),
    expires: new Date(Date.now() + 3600_000),
    ...extra,
  });
}

describe('admin actions when the cluster enforces admin MFA (lib/authz/permissions.go)', () => {
  let k: Cluster;
  beforeAll(async () => {
    k = await demoCluster(
      `---
kind: cluster_auth_preference
version: v2
metadata: { name: cluster-auth-preference }
spec: { type: local, second_factor: webauthn }
---
kind: user
version: v2
metadata:
  name: bot-approver
  labels: { teleport.internal/bot: approver }
spec: { roles: [reviewer] }
`,
      ['alice', 'bob', 'carol', 'admin', 'bot-approver'],
    );
  });
  afterAll(() => k?.close());

  it('refuses review, state change, delete, create for another user and certs for another user', async () => {
    const { c } = k;
    const req = await createFor(c.alice, 'alice', ['auditor']);
    const id = req.metadata!.name;
    const refused = { code: 7, details: MFA };
    expect(await failure(review(c.bob, id))).toEqual(refused);
    expect(await failure(setState(c.admin, id, RequestState.DENIED))).toEqual(refused);
    expect(await failure(c.admin.call('deleteAccessRequest', { id }))).toEqual(refused);
    expect(await failure(createFor(c.admin, 'alice', ['auditor']))).toEqual(refused);
    expect(await failure(c.admin.call('generateUserCerts', await certsRequest('bob')))).toEqual(refused);
    // Acting for oneself is no admin action.
    const own = await c.admin.call('generateUserCerts', await certsRequest('admin'));
    expect(parseIdentity(own.tls.toString()).username).toBe('admin');
  });

  it('exempts bots and identities issued by the Auth host, as Teleport does', async () => {
    const { c, server, dir } = k;
    const req = await createFor(c.alice, 'alice', ['dba']);
    const id = req.metadata!.name;
    const byBot = await review(c['bot-approver'], id);
    expect(byBot.spec?.reviews.map((r) => r.author)).toEqual(['bot-approver']);
    const path = join(dir, 'carol-host-signed.pem');
    await server.signIdentity('carol', path);
    const carol = await connectIdentity(server.addr, path);
    try {
      const done = await review(carol, id);
      expect(done.spec?.state).toBe(RequestState.APPROVED);
    } finally {
      carol.close();
    }
  });
});

describe('impersonated certificates (lib/auth/auth_with_roles.go: generateUserCerts)', () => {
  let k: Cluster;
  beforeAll(async () => {
    k = await demoCluster('', ['alice', 'bob', 'carol', 'admin']);
  });
  afterAll(() => k?.close());

  it('an identity signed for alice cannot assume her approved request; it may renew itself, still impersonated', async () => {
    const { c, server, dir } = k;
    const req = await createFor(c.alice, 'alice', ['auditor']);
    const id = req.metadata!.name;
    await review(c.bob, id);
    const path = join(dir, 'alice-signed.pem');
    await server.signIdentity('alice', path);
    const signed = await connectIdentity(server.addr, path);
    try {
      expect(
        await failure(
          signed.call('generateUserCerts', await certsRequest('alice', { accessRequests: [id] })),
        ),
      ).toEqual({
        code: 7,
        details: 'access denied: impersonated user can not request new roles',
      });
      const renewed = await signed.call(
        'generateUserCerts',
        await certsRequest('alice', { dropAccessRequests: ['*'] }),
      );
      expect(parseIdentity(renewed.tls.toString()).impersonator).toMatch(/^[0-9a-f-]{36}\.local$/);
    } finally {
      signed.close();
    }
  });

  it('an identity admin signed for bob cannot ask for anyone else; admin cannot ask for requests for bob', async () => {
    const { c } = k;
    const forBob = await c.admin.call('generateUserCerts', await certsRequest('bob'));
    expect(parseIdentity(forBob.tls.toString()).impersonator).toBe('admin');
    expect(
      await failure(c.admin.call('generateUserCerts', await certsRequest('bob', { accessRequests: ['x'] }))),
    ).toEqual({
      code: 7,
      details: 'user "admin" requested cert for "bob" and included access requests, this is not supported.',
    });
    expect(await failure(c.bob.call('generateUserCerts', await certsRequest('carol')))).toEqual({
      code: 7,
      details: 'access denied: impersonation is not allowed',
    });
  });
});

describe('listing (lib/auth/auth_with_roles.go: ListAccessRequests, AccessRequestFilter.Match)', () => {
  let k: Cluster;
  beforeAll(async () => {
    k = await demoCluster('', ['alice', 'bob', 'carol', 'admin', 'access-plugin']);
  });
  afterAll(() => k?.close());

  const list = (client: TestClient, sort: AccessRequestSort, scope = AccessRequestScope.DEFAULT) =>
    client.call('listAccessRequests', {
      filter: { id: '', user: '', state: 0, searchKeywords: [], scope, requester: '' },
      sort,
      descending: false,
      limit: 0,
      startKey: '',
    });

  it('sorts by state name (APPROVED < DENIED < PENDING), then by ID', async () => {
    const { c } = k;
    const ids: Record<string, string[]> = { APPROVED: [], DENIED: [], PENDING: [] };
    for (let i = 0; i < 2; i++) {
      const p = await createFor(c.alice, 'alice', ['auditor']);
      ids.PENDING.push(p.metadata!.name);
      const d = await createFor(c.alice, 'alice', ['auditor']);
      await review(c.bob, d.metadata!.name, RequestState.DENIED);
      ids.DENIED.push(d.metadata!.name);
      const a = await createFor(c.alice, 'alice', ['auditor']);
      await review(c.bob, a.metadata!.name);
      ids.APPROVED.push(a.metadata!.name);
    }
    const got = (await list(c.admin, AccessRequestSort.STATE)).accessRequests.map((r) => r.metadata!.name);
    const want = ['APPROVED', 'DENIED', 'PENDING'].flatMap((s) => [...ids[s]].sort());
    expect(got).toEqual(want);
  });

  it('NEEDS_REVIEW for a caller with list/read holds every pending request it has not reviewed, reviewer or not', async () => {
    const { c } = k;
    const pending = await createFor(c.alice, 'alice', ['dba']);
    const got = (await list(c['access-plugin'], AccessRequestSort.CREATED, AccessRequestScope.NEEDS_REVIEW))
      .accessRequests;
    expect(got.map((r) => r.metadata!.name)).toContain(pending.metadata!.name);
    expect(got.every((r) => r.spec?.state === RequestState.PENDING)).toBe(true);
  });

  it('REVIEWED holds only requests the caller reviewed, never its own', async () => {
    const { c } = k;
    const reviewed = (await list(c.bob, AccessRequestSort.CREATED, AccessRequestScope.REVIEWED))
      .accessRequests;
    expect(reviewed.length).toBeGreaterThan(0);
    expect(
      reviewed.every((r) => r.spec?.user !== 'bob' && r.spec?.reviews.some((x) => x.author === 'bob')),
    ).toBe(true);
    const mine = (await list(c.alice, AccessRequestSort.CREATED, AccessRequestScope.REVIEWED)).accessRequests;
    expect(mine).toEqual([]);
  });
});
