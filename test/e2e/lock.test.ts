/**
 * Revoking with locks: after `access request lock`, every certificate carrying the request
 * is refused (exit 7, naming the lock) while other identities keep working; the lock's
 * expiry brings nothing back that was dropped or deleted; bad input changes nothing.
 */
import { copyFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect } from '../../src/client/connect.js';
import { lockRequest } from '../../src/client/locks.js';
import { readIdentityFile } from '../../src/identity/identity-file.js';
import type { RequestLock } from '../../src/model/lock.js';
import type { AccessRequest } from '../../src/model/request.js';
import { copyIdentity, expectSchema, identityOf, startTestServer, type TestServer } from '../helpers/e2e.js';
import { runCli } from '../helpers/run-cli.js';

let server: TestServer;
let admin: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  admin = server.env('admin');
});

afterAll(async () => {
  await server?.close();
});

async function ok(argv: string[], env: Record<string, string>) {
  const r = await runCli(argv, { env });
  expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

/** Alice creates an auditor request, admin approves it, alice assumes it into `path`. */
async function assumedRequest(): Promise<{ id: string; alice: Awaited<ReturnType<typeof copyIdentity>> }> {
  const alice = await copyIdentity(server, 'alice');
  const created = await ok(
    ['request', 'create', '--roles', 'auditor', '--reason', 'lock test', '--nowait', '--format', 'json'],
    alice.env,
  );
  const id = (JSON.parse(created.stdout) as AccessRequest).id;
  await ok(['request', 'approve', id, '--reason', 'ok'], admin);
  await ok(['request', 'wait', id, '--timeout', '20s'], alice.env);
  expect((await identityOf(alice.path)).activeRequests).toEqual([id]);
  return { id, alice };
}

async function locks(): Promise<RequestLock[]> {
  const r = await ok(['lock', 'ls', '--format', 'json'], admin);
  const out = JSON.parse(r.stdout) as RequestLock[];
  expectSchema('locks', out);
  return out;
}

describe('access request lock', () => {
  test('the locked identity cannot list, review or assume; other identities keep working', async () => {
    const { id, alice } = await assumedRequest();
    const other = await copyIdentity(server, 'alice');
    const pending = await ok(
      ['request', 'create', '--roles', 'auditor', '--reason', 'x', '--nowait', '--format', 'json'],
      other.env,
    );
    const pendingId = (JSON.parse(pending.stdout) as AccessRequest).id;

    const locked = await ok(
      ['request', 'lock', id, '--ttl', '1h', '--message', 'incident 7', '--format', 'json'],
      admin,
    );
    const lock = JSON.parse(locked.stdout) as RequestLock;
    expectSchema('lock', lock);
    expect(lock).toMatchObject({
      name: `access-request-${id}`,
      access_request: id,
      message: 'incident 7',
      created_by: 'admin',
      in_force: true,
    });
    expect(lock.expires).not.toBeNull();

    const named = `error: lock targeting AccessRequest:"${id}" is in force: incident 7\n`;
    for (const argv of [
      ['request', 'ls'],
      ['request', 'review', pendingId, '--approve'],
      ['request', 'wait', id, '--timeout', '5s'],
      ['request', 'drop'],
    ]) {
      const r = await runCli(argv, { env: alice.env });
      expect(r.code, argv.join(' ')).toBe(7);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([named.trimEnd()]);
      expect(r.stdout).toBe('');
    }
    // The old identity is not re-issued: it still carries the request.
    expect((await identityOf(alice.path)).activeRequests).toEqual([id]);

    // A clean identity of the same user works, but may not assume the locked request.
    await ok(['request', 'ls'], other.env);
    const assume = await runCli(['request', 'wait', id, '--timeout', '5s'], { env: other.env });
    expect(assume.code).toBe(7);
    expect(assume.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([named.trimEnd()]);
    expect((await identityOf(other.path)).activeRequests).toEqual([]);
    await ok(['request', 'ls'], server.env('bob'));

    expect((await locks()).find((l) => l.access_request === id)).toMatchObject({ in_force: true });

    // Removing the lock lets the old certificate in again.
    const removed = await ok(['lock', 'rm', lock.name, '--format', 'json'], admin);
    expectSchema('lock-rm-result', JSON.parse(removed.stdout));
    await ok(['request', 'ls'], alice.env);
  });

  test('rm --lock: the lock expires, and nothing deleted or dropped comes back', async () => {
    const { id, alice } = await assumedRequest();
    const stolen = `${alice.path}.stolen`;
    await copyFile(alice.path, stolen);
    await ok(['request', 'drop', id], alice.env);
    expect((await identityOf(alice.path)).activeRequests).toEqual([]);

    const r = await ok(['request', 'rm', id, '--lock', '--format', 'json'], admin);
    expect(JSON.parse(r.stdout)).toEqual({ deleted: [id], locked: [`access-request-${id}`] });
    const refused = await runCli(['request', 'ls'], { env: { ...alice.env, ACCESS_IDENTITY: stolen } });
    expect(refused.code).toBe(7);

    // The same lock again, counted from two hours back with a TTL of one hour: expired.
    const conn = await connect({
      credentials: await readIdentityFile(server.identity('admin')),
      authServer: server.addr,
    });
    try {
      await lockRequest(conn, id, { ttlMs: 3600_000, now: () => new Date(Date.now() - 2 * 3600_000) });
    } finally {
      conn.close();
    }
    expect((await locks()).filter((l) => l.access_request === id)).toMatchObject([
      { name: `access-request-${id}`, in_force: false },
    ]);

    expect((await identityOf(alice.path)).activeRequests).toEqual([]);
    const show = await runCli(['request', 'show', id], { env: alice.env });
    expect(show.code).toBe(6);
    await ok(['request', 'ls'], { ...alice.env, ACCESS_IDENTITY: stolen });
  });
});

describe('bad input changes nothing', () => {
  const unknown = '00000000-0000-4000-8000-000000000001';

  test.each([
    ['an unknown request', ['request', 'lock', unknown], 6, /^error: access request "[^"]+" not found\n/],
    ['--ttl 0', ['request', 'lock', unknown, '--ttl', '0'], 2, /^error: --ttl must be longer than 0/],
    ['--ttl bad', ['request', 'lock', unknown, '--ttl', 'soon'], 2, /^error: invalid duration "soon"/],
    ['an empty --message', ['request', 'lock', unknown, '--message', ' '], 2, /^error: --message is empty/],
    ['a bad ID', ['request', 'lock', 'nope'], 2, /^error: /],
    ['an unknown lock', ['lock', 'rm', 'no-such-lock'], 6, /^error: lock "no-such-lock" is not found/],
  ])('%s', async (_name, argv, code, message) => {
    const before = await locks();
    const r = await runCli(argv as string[], { env: admin });
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(await locks()).toEqual(before);
  });

  test('without the lock rules: exit 7, and drop --lock re-issues nothing', async () => {
    const { id, alice } = await assumedRequest();
    const before = await locks();
    const lock = await runCli(['request', 'lock', id], { env: alice.env });
    expect(lock.code).toBe(7);
    expect(lock.stderr).toMatch(/^error: .*"create" on "lock"/);
    const drop = await runCli(['request', 'drop', id, '--lock'], { env: alice.env });
    expect(drop.code).toBe(7);
    expect((await identityOf(alice.path)).activeRequests).toEqual([id]);
    expect(await locks()).toEqual(before);
  });
});
