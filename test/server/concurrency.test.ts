import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessRequestFilter,
  AccessRequestV3,
  AccessReview,
  RequestState,
} from '../../src/gen/teleport/legacy/types/types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { connectIdentity, type TestClient } from '../helpers/grpc.js';

const REVIEWERS = 50;

const SEED = [
  `kind: role
version: v7
metadata: {name: requester}
spec:
  allow:
    request:
      roles: [dba]
      thresholds:
        - {name: three, approve: 3, deny: 1}`,
  `kind: role
version: v7
metadata: {name: dba}
spec: {}`,
  `kind: role
version: v7
metadata: {name: reviewer}
spec:
  allow:
    review_requests: {roles: [dba]}`,
  `kind: user
version: v2
metadata: {name: alice}
spec: {roles: [requester]}`,
  ...Array.from(
    { length: REVIEWERS },
    (_, i) => `kind: user
version: v2
metadata: {name: reviewer${i}}
spec: {roles: [reviewer]}`,
  ),
].join('\n---\n');

let dir: string;
let server: RunningServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-concurrency-'));
  await writeFile(join(dir, 'seed.yaml'), SEED);
  server = await startServer({
    dataDir: join(dir, 'data'),
    listen: '127.0.0.1:0',
    seedFile: join(dir, 'seed.yaml'),
  });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.stop({ graceMs: 1000 });
  await rm(dir, { recursive: true, force: true });
});

async function client(user: string): Promise<TestClient> {
  const c = await connectIdentity(server.addr, server.identityPath(user));
  clients.push(c);
  return c;
}

describe('concurrent reviews', () => {
  it(`applies exactly the threshold of ${REVIEWERS} simultaneous approvals`, async () => {
    const alice = await client('alice');
    const req = await alice.call(
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles: ['dba'] },
      }),
    );
    const id = req.metadata!.name;
    const reviewers = await Promise.all(Array.from({ length: REVIEWERS }, (_, i) => client(`reviewer${i}`)));
    // Connect every channel first so the reviews really race on the server.
    await Promise.all(reviewers.map((c) => c.call('ping', {})));

    const results = await Promise.allSettled(
      reviewers.map((c) =>
        c.call('submitAccessReview', {
          requestId: id,
          review: AccessReview.fromPartial({ proposedState: RequestState.APPROVED, reason: 'lgtm' }),
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as ServiceError);
    expect(ok).toHaveLength(3);
    expect(refused).toHaveLength(REVIEWERS - 3);
    // Every loser sees the same Teleport error: the request is no longer pending.
    const distinct = new Set(refused.map((e) => `${e.code} ${e.details}`));
    expect(distinct.size).toBe(1);
    expect(refused[0]).toMatchObject({ code: 7, details: 'the access request has been already approved' });

    const [stored] = await alice.collect('getAccessRequestsV2', AccessRequestFilter.fromPartial({ id }));
    expect(stored.spec?.state).toBe(RequestState.APPROVED);
    expect(stored.spec?.reviews).toHaveLength(3);
    expect(new Set(stored.spec?.reviews.map((r) => r.author)).size).toBe(3);
    // The three successful replies are the three stored reviews, each seeing its predecessors.
    const counts = ok
      .map((r) => (r as PromiseFulfilledResult<AccessRequestV3>).value.spec!.reviews.length)
      .sort();
    expect(counts).toEqual([1, 2, 3]);
  });
});
