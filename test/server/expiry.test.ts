import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessRequestV3, AccessReview, RequestState } from '../../src/gen/teleport/legacy/types/types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { connectIdentity, failure, type TestClient } from '../helpers/grpc.js';

let dir: string;
let server: RunningServer;
let offsetMs = 0;
const c: Record<string, TestClient> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-expiry-'));
  server = await startServer({
    dataDir: dir,
    listen: '127.0.0.1:0',
    now: () => new Date(Date.now() + offsetMs),
    // The sweeper must not run during the test: the race under test is the window before it does.
    sweepIntervalMs: 3_600_000,
  });
  for (const user of ['alice', 'bob', 'admin'])
    c[user] = await connectIdentity(server.addr, server.identityPath(user));
});

afterAll(async () => {
  for (const x of Object.values(c)) x.close();
  await server?.stop({ graceMs: 1000 });
  await rm(dir, { recursive: true, force: true });
});

describe('a request past its expiry but not yet swept', () => {
  it('can be neither reviewed nor resolved, so it is never brought back to life', async () => {
    const req = await c.alice.call(
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles: ['dba'], requestReason: 'ticket 1' },
      }),
    );
    const id = req.metadata!.name;
    // Server clock just past the pending TTL; the client certificates (30 days) stay valid.
    offsetMs = req.metadata!.expires!.getTime() - Date.now() + 1000;
    try {
      const review = c.bob.call('submitAccessReview', {
        requestId: id,
        review: AccessReview.fromPartial({ proposedState: RequestState.APPROVED, reason: 'ok' }),
      });
      expect(await failure(review)).toEqual({
        code: 5,
        details: `cannot apply review to access request "${id}" (not found)`,
      });
      const resolve = c.admin.call('setAccessRequestState', {
        id,
        state: RequestState.APPROVED,
        reason: '',
        annotations: undefined,
        roles: [],
        delegator: '',
        assumeStartTime: undefined,
      });
      expect(await failure(resolve)).toEqual({
        code: 5,
        details: `cannot set state of access request "${id}" (not found)`,
      });
    } finally {
      offsetMs = 0;
    }
    const [stored] = await c.admin.collect('getAccessRequestsV2', {
      id,
      user: '',
      state: 0,
      searchKeywords: [],
      scope: 0,
      requester: '',
    });
    expect(stored.spec?.state).toBe(RequestState.PENDING);
    expect(stored.metadata?.expires?.getTime()).toBe(req.metadata!.expires!.getTime());
  });
});
