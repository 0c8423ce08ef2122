/**
 * Teleport's rules from the second audit (issue 21), each asserted with Teleport's gRPC code
 * and message as an ordinary user meets them: explicit denies, requests created in a resolved
 * state, the server-set ID, search keywords, certificates.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessRequestFilter,
  AccessRequestV3,
  RequestState,
} from '../../src/gen/teleport/legacy/types/types.js';
import { type Cluster, demoCluster } from '../helpers/cluster.js';
import { failure, type TestClient } from '../helpers/grpc.js';

const EXTRA = `---
kind: role
version: v7
metadata: { name: no-create }
spec:
  deny:
    rules:
      - resources: [access_request]
        verbs: [create]
---
kind: role
version: v7
metadata: { name: no-list }
spec:
  deny:
    rules:
      - resources: [access_request]
        verbs: [list]
---
kind: user
version: v2
metadata: { name: denied }
spec: { roles: [requester, no-create] }
---
kind: user
version: v2
metadata: { name: nolist }
spec: { roles: [requester, no-list] }
`;

const newRequest = (
  user: string,
  spec: Partial<NonNullable<AccessRequestV3['spec']>> = {},
  name = randomUUID(),
) =>
  AccessRequestV3.fromPartial({
    metadata: { name },
    spec: { user, roles: ['auditor'], requestReason: 'second pass', ...spec },
  });

const list = (client: TestClient, filter: Partial<AccessRequestFilter> = {}) =>
  client.call('listAccessRequests', {
    filter: AccessRequestFilter.fromPartial(filter),
    sort: 0,
    descending: false,
    limit: 0,
    startKey: '',
  });

let k: Cluster;
beforeAll(async () => {
  k = await demoCluster(EXTRA, ['alice', 'bob', 'admin', 'denied', 'nolist']);
});
afterAll(() => k?.close());

describe('explicit denies (auth_with_roles.go: CreateAccessRequestV2, ListAccessRequests)', () => {
  it('refuses a pending request for oneself when a deny rule names create', async () => {
    expect(await failure(k.c.denied.call('createAccessRequestV2', newRequest('denied')))).toEqual({
      code: 7,
      details: 'access denied to perform action "create" on "access_request"',
    });
    // Without any rule (no deny either), the self-pending exception holds.
    expect((await k.c.alice.call('createAccessRequestV2', newRequest('alice'))).spec?.state).toBe(
      RequestState.PENDING,
    );
  });

  it('fails the listing instead of falling back to own requests when list is denied', async () => {
    await k.c.nolist.call('createAccessRequestV2', newRequest('nolist'));
    const refused = { code: 7, details: 'access denied to perform action "list" on "access_request"' };
    expect(await failure(list(k.c.nolist))).toEqual(refused);
    expect(await failure(list(k.c.nolist, { user: 'nolist' }))).toEqual(refused);
    expect(
      await failure(k.c.nolist.collect('getAccessRequestsV2', AccessRequestFilter.fromPartial({}))),
    ).toEqual(refused);
  });
});

describe('creating in a resolved state, the ID and the user (auth_with_roles.go: CreateAccessRequestV2)', () => {
  it('refuses a non-pending request for oneself, with or without the create rule', async () => {
    expect(
      await failure(
        k.c.alice.call('createAccessRequestV2', newRequest('alice', { state: RequestState.APPROVED })),
      ),
    ).toEqual({ code: 7, details: 'access denied to perform action "create" on "access_request"' });
    expect(
      await failure(
        k.c.admin.call(
          'createAccessRequestV2',
          newRequest('admin', { roles: ['auditor'], state: RequestState.APPROVED }),
        ),
      ),
    ).toMatchObject({ code: 7, details: 'cannot create access request for self in non-pending state' });
  });

  it('creates a request for another user in the state the creator asked for', async () => {
    const created = await k.c.admin.call(
      'createAccessRequestV2',
      newRequest('alice', { state: RequestState.APPROVED, resolveReason: 'pre-approved' }),
    );
    expect(created.spec).toMatchObject({
      user: 'alice',
      state: RequestState.APPROVED,
      resolveReason: 'pre-approved',
    });
  });

  it('sets the ID server-side and checks what the client sent first (services.ValidateAccessRequest)', async () => {
    const mine = randomUUID();
    const created = await k.c.alice.call('createAccessRequestV2', newRequest('alice', {}, mine));
    expect(created.metadata?.name).not.toBe(mine);
    expect(created.metadata?.name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(await failure(k.c.alice.call('createAccessRequestV2', newRequest('')))).toEqual({
      code: 3,
      details: 'access request user name not set',
    });
    expect(await failure(k.c.alice.call('createAccessRequestV2', newRequest('alice', {}, '')))).toEqual({
      code: 3,
      details: 'missing parameter Name',
    });
    expect(await failure(k.c.alice.call('createAccessRequestV2', newRequest('alice', {}, 'req-1')))).toEqual({
      code: 3,
      details: 'invalid access request ID "req-1"',
    });
  });
});

describe('search keywords (api/types/access_request.go: AccessRequestV3.MatchSearch)', () => {
  it('match labels, the ID, the user, roles and requested resource names, not reasons, reviewers or states', async () => {
    const created = await k.c.alice.call(
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID(), labels: { ticket: 'INC-5521' } },
        spec: {
          user: 'alice',
          roles: ['auditor'],
          requestReason: 'outage zebra',
          suggestedReviewers: ['carol'],
        },
      }),
    );
    const id = created.metadata!.name;
    const found = async (...searchKeywords: string[]) =>
      (await list(k.c.alice, { searchKeywords })).accessRequests.map((r) => r.metadata!.name).includes(id);
    for (const kw of ['inc-5521', 'TICKET', id.slice(-12), 'alice', 'AUDIT'])
      expect(await found(kw), kw).toBe(true);
    expect(await found('ticket', 'auditor')).toBe(true);
    for (const kw of ['zebra', 'carol', 'PENDING']) expect(await found(kw), kw).toBe(false);
  });
});
