/**
 * The start of a request ID names it wherever an ID is taken (issue 23), as `git` takes a
 * short hash: a unique start of at least 8 characters resolves, one that starts several IDs is
 * refused naming them, and one that starts none is "not found". The two requests are created
 * with chosen IDs (the client may name a request, as Teleport's may) sharing their first 13.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AccessRequestV3 } from '../../src/gen/teleport/legacy/types/types.js';
import type { AccessRequest } from '../../src/model/request.js';
import { access, accessJson, startTestServer, type TestServer } from '../helpers/e2e.js';
import { connectIdentity } from '../helpers/grpc.js';

let server: TestServer;
let a: AccessRequest;
let b: AccessRequest;
/** The longest start the two IDs share (at least 8 characters: they were made moments apart). */
let common: string;
/** The shortest start of a's ID that b's does not share. */
let unique: string;

const A_ID = '0193c1e2-7b3a-4c4d-9e5f-0a1b2c3d4e5f';
const B_ID = '0193c1e2-7b3a-4fff-8e5f-0a1b2c3d4e60';

beforeAll(async () => {
  server = await startTestServer();
  const alice = await connectIdentity(server.addr, server.identity('alice'));
  for (const [name, roles] of [
    [A_ID, ['dba']],
    [B_ID, ['auditor']],
  ] as const) {
    await alice.call(
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name },
        spec: { roles: [...roles], requestReason: 'prefix' },
      }),
    );
  }
  alice.close();
  a = await accessJson<AccessRequest>(['request', 'show', A_ID], server.env('alice'));
  b = await accessJson<AccessRequest>(['request', 'show', B_ID], server.env('alice'));
  common = '0193c1e2-7b3a-4';
  unique = '0193c1e2-7b3a-4c';
});

afterAll(async () => {
  await server?.close();
});

describe('request ID prefixes', () => {
  test('show, review and wait take a unique start of an ID', async () => {
    const shown = await accessJson<AccessRequest>(['request', 'show', unique], server.env('alice'));
    expect(shown.id).toBe(a.id);
    const upper = await accessJson<AccessRequest>(
      ['request', 'show', unique.toUpperCase()],
      server.env('alice'),
    );
    expect(upper.id).toBe(a.id);
    const review = await access(['request', 'review', unique, '--deny', '--reason', 'no'], server.env('bob'));
    expect(review.code, review.stderr).toBe(0);
    const wait = await access(['request', 'wait', unique, '--no-assume'], server.env('alice'));
    expect(wait.code).toBe(3);
    expect(wait.stderr).toContain(a.id);
  });

  test('a start shared by several IDs is refused, naming them; nothing changes', async () => {
    const r = await access(['request', 'approve', common], server.env('admin'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`request ID prefix "${common}" is ambiguous: it matches `);
    expect(r.stderr).toContain(a.id);
    expect(r.stderr).toContain(b.id);
    const still = await accessJson<AccessRequest>(['request', 'show', b.id], server.env('alice'));
    expect(still.state).toBe('PENDING');
  });

  test('a start of no ID is not found (exit 6); shorter than 8 characters is invalid (exit 2)', async () => {
    const none = await access(['request', 'show', 'ffffffff-ff'], server.env('alice'));
    expect(none.code).toBe(6);
    expect(none.stderr).toBe('error: no access request ID starts with "ffffffff-ff"\n');
    const short = await access(['request', 'show', a.id.slice(0, 7)], server.env('alice'));
    expect(short.code).toBe(2);
  });
});
