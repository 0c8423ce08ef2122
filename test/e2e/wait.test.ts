import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readIdentityFile } from '../../src/identity/identity-file.js';
import type { AccessRequest } from '../../src/model/request.js';
import type { DropResult } from '../../src/model/schema.js';
import {
  access,
  accessJson,
  copyIdentity,
  createPendingAs,
  expectSchema,
  identityOf,
  runAccess,
  spawnCli,
  startAccess,
  startTestServer,
  type TestServer,
} from '../helpers/e2e.js';

// Commands run in-process (access, startAccess); the whole loop (create --wait, drop), Ctrl-C
// and one wait run as the spawned bundle (spawnCli, runAccess): re-issue is a lazily loaded
// chunk, and exit codes and signals are the process's.
let server: TestServer;
let bob: Record<string, string>;

beforeAll(async () => {
  // A fast sweeper, so a request whose TTL passes is removed within a fraction of a second.
  server = await startTestServer({ sweepIntervalMs: 100 });
  bob = server.env('bob');
});

afterAll(async () => {
  await server?.close();
});

const CREATED = /Created access request (\S+) \(PENDING\)/;

describe('create --wait', () => {
  test('the whole loop: approval re-issues the identity with the role; drop returns to base roles', async () => {
    const alice = await copyIdentity(server, 'alice');
    const before = await identityOf(alice.path);
    expect(before.roles.sort()).toEqual(['audit-requester', 'requester']);

    const create = spawnCli(
      ['request', 'create', '--roles', 'dba', '--reason', 'loop', '--format', 'json'],
      alice.env,
    );
    const id = (await create.waitForStderr(CREATED))[1];
    await create.waitForStderr(/Waiting for approval from bob/);
    expect(create.stderr).toContain(`resume with: access request wait ${id}`);
    const review = await access(['request', 'review', id, '--approve', '--reason', 'go'], bob);
    expect(review.code).toBe(0);

    const exit = await create.exited();
    expect(exit.code).toBe(0);
    const final = JSON.parse(exit.stdout) as AccessRequest;
    expectSchema('request', final);
    expect(final).toMatchObject({ id, state: 'APPROVED', resolve_reason: 'go', roles: ['dba'] });
    expect(exit.stderr).toContain('Approval received, getting updated certificates...');

    const after = await identityOf(alice.path);
    expect(after.username).toBe('alice');
    expect(after.activeRequests).toEqual([id]);
    expect(after.roles).toContain('dba');

    const drop = await runAccess(['request', 'drop', '--format', 'json'], alice.env);
    expect(drop.code).toBe(0);
    const dropped = JSON.parse(drop.stdout) as DropResult;
    expectSchema('drop-result', dropped);
    expect(dropped).toEqual({ dropped: [id], active_requests: [], roles: expect.any(Array), locked: [] });
    const base = await identityOf(alice.path);
    expect(base.activeRequests).toEqual([]);
    expect(base.roles.sort()).toEqual(['audit-requester', 'requester']);
  });

  test('text output: the final request on stdout; --no-assume leaves the identity alone', async () => {
    const alice = await copyIdentity(server, 'alice');
    const create = startAccess(['request', 'create', '--roles', 'dba', '--no-assume'], alice.env);
    const id = (await create.waitForStderr(CREATED))[1];
    await access(['request', 'approve', id], server.env('admin'));
    const exit = await create.exited();
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(new RegExp(`^ID: +${id}$`, 'm'));
    expect(exit.stdout).toMatch(/^State: +APPROVED$/m);
    expect(exit.stderr).not.toContain('getting updated certificates');
    expect((await identityOf(alice.path)).activeRequests).toEqual([]);
  });

  test('denial exits 3 with the resolve reason', async () => {
    const alice = await copyIdentity(server, 'alice');
    const create = startAccess(['request', 'create', '--roles', 'dba'], alice.env);
    const id = (await create.waitForStderr(CREATED))[1];
    await create.waitForStderr(/Waiting for approval/);
    await access(['request', 'review', id, '--deny', '--reason', 'not today'], bob);
    const exit = await create.exited();
    expect(exit.code).toBe(3);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain(`error: request ${id} has been set to DENIED, reason="not today"\n`);
    expect((await identityOf(alice.path)).activeRequests).toEqual([]);
  });

  test('--timeout exits 4, keeps the ID on stderr with the resume command, and the request stays pending', async () => {
    const alice = await copyIdentity(server, 'alice');
    const exit = await access(['request', 'create', '--roles', 'dba', '--timeout', '1s'], alice.env);
    expect(exit.code).toBe(4);
    const id = exit.stderr.match(CREATED)?.[1];
    expect(id).toBeDefined();
    expect(exit.stderr).toContain(`error: timed out waiting for request ${id}; it is still pending\n`);
    expect(exit.stderr).toContain(`hint: resume with: access request wait ${id}\n`);
    const req = await accessJson<AccessRequest>(['request', 'show', id!], alice.env);
    expect(req.state).toBe('PENDING');
  });

  test('a request that expires while waited on exits 5', async () => {
    const alice = await copyIdentity(server, 'alice');
    const exit = await access(['request', 'create', '--roles', 'dba', '--request-ttl', '2s'], alice.env, {
      timeoutMs: 20_000,
    });
    expect(exit.code).toBe(5);
    const id = exit.stderr.match(CREATED)?.[1];
    // The waiter stops at the expiry by itself, or on the sweeper's DELETE if that comes first.
    expect(exit.stderr).toMatch(
      new RegExp(`error: request ${id} (expired while pending|has expired or been deleted)\n`),
    );
  });

  test('a server restart during the wait is survived; the approval still arrives', async () => {
    const alice = await copyIdentity(server, 'alice');
    const create = startAccess(['request', 'create', '--roles', 'dba'], alice.env);
    const id = (await create.waitForStderr(CREATED))[1];
    await create.waitForStderr(/Waiting for approval/);
    await server.stop();
    await create.waitForStderr(/reconnecting/);
    await server.restart();
    const review = await access(['request', 'review', id, '--approve'], bob);
    expect(review.code).toBe(0);
    const exit = await create.exited(30_000);
    expect(exit.code).toBe(0);
    expect((await identityOf(alice.path)).activeRequests).toEqual([id]);
  });

  test('Ctrl-C exits 130 with the ID and the resume command', async () => {
    const alice = await copyIdentity(server, 'alice');
    const create = spawnCli(['request', 'create', '--roles', 'dba'], alice.env);
    const id = (await create.waitForStderr(CREATED))[1];
    await create.waitForStderr(/Waiting for approval/);
    create.child.kill('SIGINT');
    const exit = await create.exited();
    expect(exit.code).toBe(130);
    expect(exit.stderr).toContain(`error: stopped waiting for request ${id}; it is still pending\n`);
    expect(exit.stderr).toContain(`hint: resume with: access request wait ${id}\n`);
  });
});

describe('TLS trio credentials are read-only', () => {
  test('an approval is reported but nothing is rewritten; drop refuses with exit 2', async () => {
    const creds = await readIdentityFile(server.identity('alice'));
    const dir = await mkdtemp(join(server.dir, 'trio-'));
    const files = { cert: join(dir, 'auth.crt'), key: join(dir, 'auth.key'), ca: join(dir, 'auth.cas') };
    await writeFile(files.cert, creds.certPem, { mode: 0o600 });
    await writeFile(files.key, creds.keyPem, { mode: 0o600 });
    await writeFile(files.ca, creds.caPems.join(''), { mode: 0o600 });
    const env = {
      ...server.env('alice'),
      ACCESS_CERT: files.cert,
      ACCESS_KEY: files.key,
      ACCESS_CA: files.ca,
    };
    delete (env as Record<string, string | undefined>).ACCESS_IDENTITY;

    const create = startAccess(['request', 'create', '--roles', 'dba'], env);
    const id = (await create.waitForStderr(CREATED))[1];
    await access(['request', 'approve', id], server.env('admin'));
    const exit = await create.exited();
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain('note: credentials from --cert/--key/--ca are not rewritten');
    expect(await readFile(files.cert, 'utf8')).toBe(creds.certPem);

    const drop = await access(['request', 'drop'], env);
    expect(drop.code).toBe(2);
    expect(drop.stderr).toMatch(/^error: credentials from --cert\/--key\/--ca are read-only/);
  });
});

describe('wait', () => {
  test('resumes on an existing request and assumes it on approval', async () => {
    const alice = await copyIdentity(server, 'alice');
    const req = await createPendingAs(alice.env, 'dba', 'resume');
    const wait = startAccess(['request', 'wait', req.id, '--format', 'json'], alice.env);
    await wait.waitForStderr(/Waiting for request/);
    await access(['request', 'review', req.id, '--approve'], bob);
    const exit = await wait.exited();
    expect(exit.code).toBe(0);
    expect(JSON.parse(exit.stdout)).toMatchObject({ id: req.id, state: 'APPROVED' });
    expect((await identityOf(alice.path)).activeRequests).toEqual([req.id]);
  });

  test('an already resolved request returns at once: denied exits 3', async () => {
    const alice = await copyIdentity(server, 'alice');
    const req = await createPendingAs(alice.env);
    await access(['request', 'deny', req.id], server.env('admin'));
    const exit = await runAccess(['request', 'wait', req.id], alice.env);
    expect(exit.code).toBe(3);
  });

  test('an unknown request exits 6 and --timeout exits 4', async () => {
    const alice = await copyIdentity(server, 'alice');
    const unknown = await access(['request', 'wait', '00000000-0000-0000-0000-00000000000a'], alice.env);
    expect(unknown.code).toBe(6);
    const req = await createPendingAs(alice.env);
    const timeout = await access(['request', 'wait', req.id, '--timeout', '500ms'], alice.env);
    expect(timeout.code).toBe(4);
    expect(timeout.stderr).toContain(`hint: resume with: access request wait ${req.id}\n`);
  });
});
