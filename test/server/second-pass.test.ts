/**
 * Teleport's rules from the second audit (issue 21), each asserted with Teleport's gRPC code
 * and message as an ordinary user meets them: explicit denies, requests created in a resolved
 * state, the server-set ID, search keywords, certificates.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  UserCertsRequest,
  UserCertsRequest_CertUsage,
} from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import {
  AccessRequestFilter,
  AccessRequestV3,
  AccessReview,
  RequestState,
} from '../../src/gen/teleport/legacy/types/types.js';
import { generateKey } from '../../src/identity/keys.js';
import { parseIdentity } from '../../src/identity/x509.js';
import { type Cluster, demoCluster } from '../helpers/cluster.js';
import { connectPems, failure, type TestClient } from '../helpers/grpc.js';

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
kind: role
version: v7
metadata: { name: ci-impersonator }
spec:
  allow:
    impersonate: { roles: [auditor] }
---
kind: role
version: v7
metadata: { name: lead-impersonator }
spec:
  allow:
    impersonate: { users: [bob], roles: [reviewer] }
---
kind: user
version: v2
metadata: { name: ci }
spec: { roles: [requester, ci-impersonator] }
---
kind: user
version: v2
metadata: { name: lead }
spec: { roles: [requester, lead-impersonator] }
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
  name: string = randomUUID(),
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
  k = await demoCluster(EXTRA, ['alice', 'bob', 'carol', 'admin', 'denied', 'nolist', 'ci', 'lead']);
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

const HOUR = 3600_000;

/** Certificates for `username` asked by `client`, and a client that uses them. */
async function issue(client: TestClient, username: string, extra: Partial<UserCertsRequest> = {}) {
  const key = await generateKey('ecdsa-p256');
  const res = await client.call(
    'generateUserCerts',
    UserCertsRequest.fromPartial({
      username,
      tlsPublicKey: Buffer.from(key.publicKeyPem),
      expires: new Date(Date.now() + HOUR),
      ...extra,
    }),
  );
  const tls = res.tls.toString();
  const next = connectPems(k.server.addr, {
    keyPem: key.privateKeyPem,
    certPem: tls,
    caPems: res.tlsCaCerts.map((b) => b.toString()),
  });
  return { identity: parseIdentity(tls), client: next };
}

async function approved(user: string, roles = ['auditor']): Promise<string> {
  const id = (await k.c[user].call('createAccessRequestV2', newRequest(user, { roles }))).metadata!.name;
  // dba wants two approvals (the demo seed's dba-requester), auditor one.
  for (const reviewer of ['bob', 'carol']) {
    const after = await k.c[reviewer].call('submitAccessReview', {
      requestId: id,
      review: AccessReview.fromPartial({ proposedState: RequestState.APPROVED, reason: 'ok' }),
    });
    if (after.spec?.state === RequestState.APPROVED) return id;
  }
  throw new Error(`request ${id} is not approved after two reviews`);
}

describe('certificates (auth_with_roles.go: generateUserCerts, desiredAccessInfoForUser)', () => {
  it('issues only the roles of RoleRequests, impersonated and not reissuable (CheckImpersonateRoles)', async () => {
    expect(await failure(issue(k.c.alice, 'alice', { roleRequests: ['auditor'] }))).toEqual({
      code: 7,
      details: 'user "alice" has requested role impersonation for ["auditor"]',
    });
    const { identity, client } = await issue(k.c.ci, 'ci', {
      roleRequests: ['auditor'],
      useRoleRequests: true,
    });
    expect(identity).toMatchObject({
      username: 'ci',
      roles: ['auditor'],
      impersonator: 'ci',
      disallowReissue: true,
    });
    expect(await failure(issue(client, 'ci'))).toEqual({
      code: 7,
      details: 'access denied: identity is not allowed to reissue certificates',
    });
    client.close();
    expect(await failure(issue(k.c.ci, 'ci', { useRoleRequests: true }))).toEqual({
      code: 3,
      details: 'at least one role request is required',
    });
    // An identity issued for ci by someone else may not ask for roles.
    const signed = await issue(k.c.admin, 'ci');
    expect(await failure(issue(signed.client, 'ci', { roleRequests: ['auditor'] }))).toEqual({
      code: 7,
      details: 'access denied: impersonated roles can not request other roles',
    });
    signed.client.close();
  });

  it('refuses a renewal whose expiry is unset or past (ErrClientCredentialsHaveExpired)', async () => {
    const expired = { code: 7, details: 'access denied: client credentials have expired, please relogin.' };
    expect(await failure(issue(k.c.alice, 'alice', { expires: undefined }))).toEqual(expired);
    expect(await failure(issue(k.c.alice, 'alice', { expires: new Date(Date.now() - 1000) }))).toEqual(
      expired,
    );
  });

  it("counts the caller's assumed requests as included when it asks for another user", async () => {
    const id = await approved('lead');
    const { client, identity } = await issue(k.c.lead, 'lead', { accessRequests: [id] });
    expect(identity.activeRequests).toEqual([id]);
    expect((await issue(k.c.lead, 'bob')).identity.impersonator).toBe('lead');
    expect(await failure(issue(client, 'bob'))).toEqual({
      code: 7,
      details: 'user "lead" requested cert for "bob" and included access requests, this is not supported.',
    });
    client.close();
  });

  it('re-validates every request already in the certificate; only dropping removes one', async () => {
    const gone = await approved('alice');
    const denied = await approved('alice', ['dba']);
    const { client } = await issue(k.c.alice, 'alice', { accessRequests: [gone, denied] });
    await k.c.admin.call('deleteAccessRequest', { id: gone });
    expect(await failure(issue(client, 'alice'))).toEqual({
      code: 5,
      details: `access request "${gone}" not found`,
    });
    const dropped = await issue(client, 'alice', { dropAccessRequests: [gone] });
    expect(dropped.identity.activeRequests).toEqual([denied]);
    await k.c.admin.call('setAccessRequestState', {
      id: denied,
      state: RequestState.DENIED,
      reason: 'revoked',
      annotations: undefined,
      roles: [],
      delegator: '',
      assumeStartTime: undefined,
    });
    expect(await failure(issue(dropped.client, 'alice'))).toEqual({
      code: 7,
      details: `access request "${denied}" has been denied`,
    });
    client.close();
    dropped.client.close();
  });

  it("answers a request that cannot be assumed with getValidatedAccessRequest's codes and texts", async () => {
    const leads = await approved('lead');
    expect(await failure(issue(k.c.alice, 'alice', { accessRequests: [leads] }))).toEqual({
      code: 5,
      details: `access request "${leads}" not found`,
    });
    const pending = (await k.c.alice.call('createAccessRequestV2', newRequest('alice'))).metadata!.name;
    expect(await failure(issue(k.c.alice, 'alice', { accessRequests: [pending] }))).toEqual({
      code: 7,
      details: `access request "${pending}" is awaiting approval`,
    });
  });

  it('restricts TLS usage as asked and refuses an unknown usage', async () => {
    const db = await issue(k.c.alice, 'alice', { usage: UserCertsRequest_CertUsage.Database });
    expect(db.identity.usage).toEqual(['usage:db']);
    db.client.close();
    expect(await failure(issue(k.c.alice, 'alice', { usage: 42 as UserCertsRequest_CertUsage }))).toEqual({
      code: 3,
      details: 'unsupported cert usage "42"',
    });
  });
});

describe('reviews, state changes and deletes (lib/services/local/dynamic_access.go, checkReviewCompat)', () => {
  const review = (client: TestClient, requestId: string, roles: string[] = []) =>
    client.call('submitAccessReview', {
      requestId,
      review: AccessReview.fromPartial({ proposedState: RequestState.APPROVED, reason: 'ok', roles }),
    });

  it('checks role subselection before role membership, and answers NotFound with the backend texts', async () => {
    const id = (await k.c.alice.call('createAccessRequestV2', newRequest('alice'))).metadata!.name;
    expect(await failure(review(k.c.bob, id, ['auditor', 'not-requested']))).toEqual({
      code: 12,
      details: 'role subselection is not yet supported in reviews, try omitting role list',
    });
    expect(await failure(review(k.c.bob, id, ['not-requested']))).toEqual({
      code: 3,
      details: 'role "not-requested" is not a member of this request',
    });
    const gone = randomUUID();
    expect(await failure(review(k.c.bob, gone))).toEqual({
      code: 5,
      details: `cannot apply review to access request "${gone}" (not found)`,
    });
    expect(await failure(k.c.admin.call('deleteAccessRequest', { id: gone }))).toEqual({
      code: 5,
      details: `cannot delete access request "${gone}" (not found)`,
    });
  });
});
