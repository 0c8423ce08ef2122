/**
 * Size limits on the wire: a request over any limit is refused with InvalidArgument and not
 * stored, whoever the client is; and a page of 200 requests, each at every limit a requester
 * controls, stays well under gRPC's default 4 MiB message size.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeepPartial,
  ListAccessRequestsRequest,
  ListAccessRequestsResponse,
} from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import { AccessRequestV3, RequestState } from '../../src/gen/teleport/legacy/types/types.js';
import {
  MAX_LABEL_BYTES,
  MAX_LABELS,
  MAX_NAME_BYTES,
  MAX_REASON_BYTES,
  MAX_RESOURCE_IDS_LENGTH,
  MAX_RESOURCES_PER_REQUEST,
  MAX_SUGGESTED_REVIEWERS,
} from '../../src/model/limits.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { connectIdentity, failure, type TestClient } from '../helpers/grpc.js';

let dir: string;
let server: RunningServer;
let alice: TestClient;
let admin: TestClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-limits-'));
  server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
  alice = await connectIdentity(server.addr, server.identityPath('alice'));
  admin = await connectIdentity(server.addr, server.identityPath('admin'));
});

afterAll(async () => {
  alice?.close();
  admin?.close();
  await server?.stop({ graceMs: 1000 });
  await rm(dir, { recursive: true, force: true });
});

const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const count = async () =>
  (await admin.call('listAccessRequests', ListAccessRequestsRequest.fromPartial({ limit: 1000 })))
    .accessRequests.length;

describe('CreateAccessRequestV2 refuses oversized requests (InvalidArgument) and stores nothing', () => {
  it.each([
    [
      '35,000 suggested reviewers',
      { spec: { roles: ['dba'], suggestedReviewers: many(35_000, (i) => `u${i}`) } },
      'access request names too many suggested reviewers (35000), max 8',
    ],
    [
      'a reviewer name over the limit',
      { spec: { roles: ['dba'], suggestedReviewers: ['r'.repeat(MAX_NAME_BYTES + 1)] } },
      `suggested reviewer "rrrrrrrrrrrrrrrrrrrr…" is too long, max ${MAX_NAME_BYTES} bytes`,
    ],
    [
      '50,000 labels',
      {
        metadata: { labels: Object.fromEntries(many(50_000, (i) => [`k${i}`, 'v'] as const)) },
        spec: { roles: ['dba'] },
      },
      'access request has too many labels (50000), max 8',
    ],
    [
      'a label value over the limit',
      { metadata: { labels: { k: 'v'.repeat(MAX_LABEL_BYTES + 1) } }, spec: { roles: ['dba'] } },
      `label value of "k" is too long, max ${MAX_LABEL_BYTES} bytes`,
    ],
    [
      'a reason over 4096 bytes',
      { spec: { roles: ['dba'], requestReason: 'r'.repeat(MAX_REASON_BYTES + 1) } },
      'access request reason is too long, max 4096 bytes',
    ],
    [
      'resource IDs over 2048 characters in total',
      {
        spec: {
          requestedResourceIds: many(30, (i) => ({
            clusterName: 'local',
            kind: 'node',
            name: `${'n'.repeat(70)}${i}`,
          })),
        },
      },
      'access request exceeds maximum length: try reducing the number of resources in the request',
    ],
  ] as [string, DeepPartial<AccessRequestV3>, string][])('%s', async (_name, partial, message) => {
    const before = await count();
    const req = AccessRequestV3.fromPartial({
      ...partial,
      metadata: { name: randomUUID(), ...partial.metadata },
      spec: { user: 'alice', ...partial.spec },
    });
    expect(await failure(alice.call('createAccessRequestV2', req))).toEqual({ code: 3, details: message });
    expect(await count()).toBe(before);
  });

  it('SetAccessRequestState refuses 50,000 annotation values and leaves the request pending', async () => {
    const created = await alice.call(
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles: ['dba'], requestReason: 'x' },
      }),
    );
    const id = created.metadata!.name;
    const annotations = { values: { k: { values: many(50_000, (i) => `v${i}`) } } };
    expect(
      await failure(
        admin.call('setAccessRequestState', {
          id,
          state: RequestState.APPROVED,
          annotations,
          reason: '',
          delegator: '',
          roles: [],
          assumeStartTime: undefined,
        }),
      ),
    ).toEqual({ code: 3, details: 'access request has too many annotation values (50000), max 8' });
    const [after] = (
      await admin.call('listAccessRequests', ListAccessRequestsRequest.fromPartial({ limit: 1000 }))
    ).accessRequests.filter((r) => r.metadata?.name === id);
    expect(after.spec?.state).toBe(RequestState.PENDING);
  });
});

it('a page of 200 requests, each at every limit a requester controls, stays well under 4 MiB', () => {
  // The longest resource IDs that fit both limits: 300 distinct IDs summing to 2048 characters
  // is impossible, so take as many as fit and pad the reason and lists to their limits.
  const ids = many(MAX_RESOURCES_PER_REQUEST, (i) => ({
    clusterName: 'local',
    kind: 'node',
    name: `n${i}`,
    subResourceName: '',
  }));
  let length = 0;
  const fitting = ids.filter((id) => {
    length += `/local/node/${id.name}`.length;
    return length <= MAX_RESOURCE_IDS_LENGTH;
  });
  const long = (c: string, n = MAX_LABEL_BYTES) => c.repeat(n);
  const worst = AccessRequestV3.fromPartial({
    kind: 'access_request',
    version: 'v3',
    metadata: {
      name: randomUUID(),
      labels: Object.fromEntries(
        many(MAX_LABELS, (i) => [`${i}${long('k')}`.slice(0, MAX_LABEL_BYTES), long('v')]),
      ),
    },
    spec: {
      user: long('u', MAX_NAME_BYTES),
      roles: ['dba'],
      requestReason: 'r'.repeat(MAX_REASON_BYTES),
      resolveReason: 'r'.repeat(MAX_REASON_BYTES),
      suggestedReviewers: many(MAX_SUGGESTED_REVIEWERS, (i) =>
        `${i}${long('s', MAX_NAME_BYTES)}`.slice(0, MAX_NAME_BYTES),
      ),
      requestedResourceIds: fitting,
      resolveAnnotations: {
        values: Object.fromEntries(
          many(MAX_LABELS, (i) => [`${i}${long('a')}`.slice(0, MAX_LABEL_BYTES), { values: [long('v')] }]),
        ),
      },
    },
  });
  const page = ListAccessRequestsResponse.encode({
    accessRequests: Array.from({ length: 200 }, () => worst),
    nextKey: randomUUID(),
  }).finish().length;
  const limit = 4 * 1024 * 1024;
  expect(page / limit).toBeLessThan(0.75);
});

describe('ListAccessRequests page size (lib/services/access_request_cache.go, ListMatchingAccessRequests)', () => {
  it('serves up to 16,000 a page, and refuses more with InvalidArgument', async () => {
    const page = await alice.call(
      'listAccessRequests',
      ListAccessRequestsRequest.fromPartial({ limit: 16_000 }),
    );
    expect(page.nextKey).toBe('');
    expect(
      await failure(
        alice.call('listAccessRequests', ListAccessRequestsRequest.fromPartial({ limit: 16_001 })),
      ),
    ).toEqual({
      code: 3,
      details: 'page size of 16001 is too large',
    });
  });
});
