/**
 * `access status` (alias `whoami`), `access request assume ID` (tsh login --request-id) and the
 * wait's threshold progress ("1 of 2 approvals"). The assume loop and the progress line run
 * through the built bin; the rest in-process.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { AccessRequest } from '../../src/model/request.js';
import type { Status } from '../../src/model/status.js';
import {
  access,
  accessJson,
  copyIdentity,
  createPendingAs,
  expectSchema,
  identityOf,
  runAccess,
  spawnCli,
  startTestServer,
  type TestServer,
} from '../helpers/e2e.js';
import { fakeIO } from '../helpers/run-cli.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
});

describe('access status', () => {
  test('JSON: user, cluster, roles, no requests, certificate expiry and where the credentials came from', async () => {
    const env = server.env('alice');
    const s = await accessJson<Status>(['status'], env);
    expectSchema('status', s);
    expect(s).toMatchObject({
      user: 'alice',
      cluster: server.cluster,
      active_requests: [],
      allowed_resources: [],
      impersonator: null,
      credentials: { kind: 'identity-file', path: env.ACCESS_IDENTITY, writable: true },
    });
    expect(s.roles).toEqual(['audit-requester', 'requester']);
    expect(Date.parse(s.cert_expires)).toBeGreaterThan(Date.now());
    // `whoami` is the same command.
    expect(await accessJson<Status>(['whoami'], env)).toEqual(s);
  });

  test('text: key: value lines that fit 40 columns (but a long credentials path)', async () => {
    const env = server.env('alice');
    const r = await access(['status'], env, { columns: 40 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^User: +alice$/m);
    expect(r.stdout).toMatch(/^Roles: +audit-requester$/m);
    expect(r.stdout).toMatch(/^Source: +identity file$/m);
    expect(r.stdout).toContain('Requests: [none assumed]');
    for (const line of r.stdout.trimEnd().split('\n')) {
      if (!line.includes(env.ACCESS_IDENTITY)) expect(line.length, line).toBeLessThanOrEqual(40);
    }
  });
});

describe('access request assume', () => {
  test('pending is refused with the wait command; once approved the built bin assumes it; status shows it', async () => {
    const alice = await copyIdentity(server, 'alice');
    const req = await createPendingAs(alice.env, 'dba', 'assume later');

    const early = await runAccess(['request', 'assume', req.id], alice.env);
    expect(early.code).toBe(1);
    expect(early.stderr).toBe(
      `error: request ${req.id} is still pending (0 of 1 approval); only an approved request can be assumed\nhint: wait for it with: access request wait ${req.id}\n`,
    );
    expect((await identityOf(alice.path)).activeRequests).toEqual([]);

    expect((await access(['request', 'review', req.id, '--approve'], server.env('bob'))).code).toBe(0);
    const r = await runAccess(['request', 'assume', req.id, '--format', 'json'], alice.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Assuming request ${req.id}, getting updated certificates...`);
    expect(r.stderr).toContain(`(saved to ${alice.path})`);
    const shown = JSON.parse(r.stdout) as AccessRequest;
    expectSchema('request', shown);
    expect(shown).toMatchObject({ id: req.id, state: 'APPROVED' });
    const id = await identityOf(alice.path);
    expect(id.activeRequests).toEqual([req.id]);
    expect(id.roles).toContain('dba');

    const s = await runAccess(['status', '--format', 'json'], alice.env);
    expect(s.code).toBe(0);
    const status = JSON.parse(s.stdout) as Status;
    expectSchema('status', status);
    expect(status.active_requests).toEqual([
      { id: req.id, state: 'APPROVED', roles: ['dba'], resources: [], access_expires: shown.access_expires },
    ]);
    const text = await access(['status'], alice.env, { columns: 40 });
    expect(text.stdout).toContain(`Assumed requests:\n  ${req.id}\n    State: APPROVED\n    Roles: dba\n`);
  });

  test("a denied request exits 3, another user's 7, an unknown ID 6, a bad ID 2; nothing is re-issued", async () => {
    const alice = await copyIdentity(server, 'alice');
    const denied = await createPendingAs(alice.env, 'dba', 'deny me');
    await access(['request', 'review', denied.id, '--deny'], server.env('bob'));
    const d = await access(['request', 'assume', denied.id], alice.env);
    expect(d.code).toBe(3);
    expect(d.stderr).toBe(`error: request ${denied.id} was denied; it cannot be assumed\n`);

    const approved = await createPendingAs(alice.env, 'dba', 'not yours');
    await access(['request', 'review', approved.id, '--approve'], server.env('bob'));
    const other = await access(['request', 'assume', approved.id], server.env('admin'));
    expect(other.code).toBe(7);
    expect(other.stderr).toContain(`request ${approved.id} belongs to "alice", not to "admin"`);

    const unknown = await access(['request', 'assume', '00000000-0000-4000-8000-000000000000'], alice.env);
    expect(unknown.code).toBe(6);
    expect((await access(['request', 'assume', 'nope'], alice.env)).code).toBe(2);
    expect((await identityOf(alice.path)).activeRequests).toEqual([]);
  });
});

describe('threshold progress while waiting', () => {
  test('the built bin logs "1 of 2 approvals" on stderr after a partial approval', async () => {
    const alice = await copyIdentity(server, 'alice');
    const create = spawnCli(['request', 'create', '--roles', 'auditor', '--reason', 'two people'], alice.env);
    const id = (await create.waitForStderr(/Created access request (\S+) \(PENDING\)/))[1];
    await create.waitForStderr(/Waiting for approval/);
    await access(['request', 'review', id, '--approve'], server.env('bob'));
    await create.waitForStderr(new RegExp(`Request ${id}: 1 of 2 approvals`));
    await access(['request', 'review', id, '--approve'], server.env('carol'));
    const exit = await create.exited();
    expect(exit.code).toBe(0);
    expect(exit.stderr.match(/of 2 approvals/g)).toHaveLength(1);
  });

  test('on a terminal the spinner shows it', async () => {
    const alice = await copyIdentity(server, 'alice');
    const req = await createPendingAs(alice.env, 'auditor', 'spinner');
    await access(['request', 'review', req.id, '--approve'], server.env('bob'));
    let stderr = '';
    let seen: () => void = () => {};
    const partial = new Promise<void>((resolve) => {
      seen = resolve;
    });
    const io = {
      ...fakeIO({ env: { HOME: '/nonexistent-home', ...alice.env } }),
      stderrIsTTY: true,
      stderr: Object.assign(
        {
          write(chunk: string) {
            stderr += chunk;
            if (stderr.includes('(1 of 2 approvals)')) seen();
            return true;
          },
        },
        // What ora asks of a terminal stream.
        { columns: 100, isTTY: true, cursorTo: () => true, clearLine: () => true, moveCursor: () => true },
      ),
    };
    const waiting = main(['request', 'wait', req.id, '--no-assume'], io);
    await partial;
    await access(['request', 'review', req.id, '--approve'], server.env('carol'));
    expect(await waiting).toBe(0);
    expect(stderr).toContain(`Waiting for request ${req.id} to be resolved... (1 of 2 approvals)`);
  });
});
