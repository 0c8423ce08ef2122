/**
 * The domain-level client against the embedded server: commands hand it model drafts and
 * get model requests, search results and capabilities back.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Connection, connect } from '../../../src/client/connect.js';
import { requestPages } from '../../../src/client/list.js';
import { serverInfo } from '../../../src/client/probes.js';
import {
  assertMayDeleteRequests,
  createRequest,
  deleteRequest,
  getRequest,
  isReasonRequired,
  type RequestDraft,
  reviewRequest,
  setRequestState,
  userRequests,
} from '../../../src/client/requests.js';
import { getCapabilities, nodeHostnames, searchResources } from '../../../src/client/resources.js';
import { readIdentityFile } from '../../../src/identity/identity-file.js';
import { AccessError } from '../../../src/model/errors.js';
import type { AccessRequest } from '../../../src/model/request.js';
import { NODE_DB, NODE_WEB, startTestServer, type TestServer } from '../../helpers/e2e.js';

const HOUR = 3600_000;

let server: TestServer;
const conns: Record<string, Connection> = {};

async function as(user: string): Promise<Connection> {
  conns[user] ??= await connect({
    authServer: server.addr,
    credentials: await readIdentityFile(server.identity(user)),
  });
  return conns[user];
}

function draft(over: Partial<RequestDraft> = {}): RequestDraft {
  return { roles: ['dba'], resources: [], reason: 'ticket 42', reviewers: ['bob'], dryRun: false, ...over };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function failure(p: Promise<unknown>): Promise<AccessError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AccessError);
  return err as AccessError;
}

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  for (const c of Object.values(conns)) c.close();
  await server?.close();
});

describe('requests', () => {
  test('a draft becomes a stored pending request, read back the same by ID, by user and by list', async () => {
    const alice = await as('alice');
    const now = new Date();
    const created = await createRequest(alice, draft({ requestTtlMs: 2 * HOUR }), { now });
    expect(created).toMatchObject({
      user: 'alice',
      roles: ['dba'],
      state: 'PENDING',
      reason: 'ticket 42',
      suggested_reviewers: ['bob'],
    });
    expect(Date.parse(created.expires ?? '')).toBe(now.getTime() + 2 * HOUR);
    expect(await getRequest(alice, created.id)).toEqual(created);
    expect((await collect(userRequests(alice, 'alice'))).map((r) => r.id)).toContain(created.id);
    const pending: AccessRequest[] = [];
    await requestPages(
      alice,
      { state: 'PENDING', scope: 'mine', search: [], sort: 'created', descending: true },
      { pageSize: 50 },
      {
        consume: (page) => {
          pending.push(...page);
          return true;
        },
      },
    );
    expect(pending.map((r) => r.id)).toContain(created.id);
    expect(pending.every((r: AccessRequest) => r.state === 'PENDING' && r.user === 'alice')).toBe(true);
  });

  test('a dry run answers with the request and stores nothing', async () => {
    const alice = await as('alice');
    const before = (await collect(userRequests(alice, 'alice'))).length;
    const checked = await createRequest(alice, draft({ dryRun: true }), { now: new Date() });
    expect(checked).toMatchObject({ user: 'alice', roles: ['dba'], state: 'PENDING' });
    expect(await collect(userRequests(alice, 'alice'))).toHaveLength(before);
  });

  test('a role the user may not request is refused as bad input (BadParameter), not for a missing reason', async () => {
    const err = await failure(
      createRequest(await as('alice'), draft({ roles: ['admin'] }), { now: new Date() }),
    );
    expect(err.kind).toBe('usage');
    expect(isReasonRequired(err)).toBe(false);
  });

  test('a review proposes a state by name and returns the request after it', async () => {
    const created = await createRequest(await as('alice'), draft(), { now: new Date() });
    const reviewed = await reviewRequest(await as('bob'), created.id, {
      proposal: 'APPROVED',
      reason: 'ok',
      created: new Date(),
    });
    expect(reviewed.state).toBe('APPROVED');
    expect(reviewed.reviews).toMatchObject([{ author: 'bob', state: 'APPROVED', reason: 'ok' }]);
  });

  test('a state change carries the reason and annotations', async () => {
    const created = await createRequest(await as('alice'), draft(), { now: new Date() });
    await setRequestState(await as('admin'), created.id, {
      state: 'DENIED',
      reason: 'not now',
      annotations: { ticket: ['42', '43'] },
      roles: [],
      delegator: '',
    });
    expect(await getRequest(await as('admin'), created.id)).toMatchObject({
      state: 'DENIED',
      resolve_reason: 'not now',
      annotations: { ticket: ['42', '43'] },
    });
  });

  test('delete: probed without change, refused without the rule, then gone (not-found)', async () => {
    const created = await createRequest(await as('alice'), draft(), { now: new Date() });
    expect((await failure(assertMayDeleteRequests(await as('alice')))).kind).toBe('permission');
    await assertMayDeleteRequests(await as('admin'));
    expect((await getRequest(await as('admin'), created.id)).state).toBe('PENDING');
    await deleteRequest(await as('admin'), created.id);
    const gone = await failure(getRequest(await as('admin'), created.id));
    expect(gone.kind).toBe('not-found');
  });
});

describe('resources and capabilities', () => {
  test('node search names the cluster in resource IDs; hostnames are found by node name', async () => {
    const alice = await as('alice');
    const found = await searchResources(alice, server.cluster, 'node', {
      keywords: [],
      query: '',
      labels: {},
    });
    expect(found.map((r) => r.resource_id).sort()).toEqual(
      [`/${server.cluster}/node/${NODE_DB}`, `/${server.cluster}/node/${NODE_WEB}`].sort(),
    );
    const prod = await searchResources(alice, server.cluster, 'node', {
      keywords: [],
      query: '',
      labels: { env: 'prod' },
    });
    expect(prod.map((r) => r.hostname)).toEqual(['web-1']);
    const hosts = await nodeHostnames(alice, new Set([NODE_WEB, 'no-such-node']));
    expect([...hosts]).toEqual([[NODE_WEB, 'web-1']]);
  });

  test('capabilities in the model shape; the cluster name from Ping', async () => {
    const alice = await as('alice');
    const caps = await getCapabilities(alice, 'alice', { requestableRoles: true, suggestedReviewers: true });
    expect(caps.requestable_roles.sort()).toEqual(['auditor', 'dba']);
    expect(caps.suggested_reviewers).toEqual(['bob']);
    expect((await serverInfo(alice)).clusterName).toBe(server.cluster);
  });
});
