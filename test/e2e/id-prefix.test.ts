/**
 * The start of a request ID names it wherever an ID is taken (issue 23), as `git` takes a
 * short hash: a unique start of at least 8 characters resolves, one that starts several IDs is
 * refused naming them, and one that starts none is "not found". The server names requests
 * (UUIDv7: the first 12 hex digits are the creation time in milliseconds), so two requests made
 * moments apart share at least their first 8 characters.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AccessRequest } from '../../src/model/request.js';
import { access, accessJson, startTestServer, type TestServer } from '../helpers/e2e.js';

let server: TestServer;
let a: AccessRequest;
let b: AccessRequest;
/** The longest start the two IDs share (at least 8 characters: they were made moments apart). */
let common: string;
/** The shortest start of a's ID that no other request's shares. */
let unique: string;

const create = (roles: string) =>
  accessJson<AccessRequest>(
    ['request', 'create', '--roles', roles, '--reason', 'prefix', '--nowait'],
    server.env('alice'),
  );

function sharedStart(x: string, y: string): string {
  let n = 0;
  while (n < x.length && x[n] === y[n]) n++;
  return x.slice(0, n);
}

beforeAll(async () => {
  server = await startTestServer();
  a = await create('dba');
  // The top 32 bits of the time change every 65.5 s: a second pair is made moments apart again.
  for (let tries = 0; tries < 3; tries++) {
    b = await create('auditor');
    common = sharedStart(a.id, b.id);
    if (common.length >= 8) break;
    a = await create('dba');
  }
  expect(common.length).toBeGreaterThanOrEqual(8);
  const all = await accessJson<AccessRequest[]>(['request', 'ls', '--all'], server.env('admin'));
  const others = all.map((r) => r.id).filter((id) => id !== a.id);
  let n = 8;
  while (others.some((id) => id.startsWith(a.id.slice(0, n)))) n++;
  unique = a.id.slice(0, n);
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
