/**
 * Locks on the real path, with a user who may both assume and lock (`lock` verbs in a
 * role): `exec --lock` ends with its request locked (GetLocks shows it) and any copy of the
 * identity that carried it refused; `drop --lock` re-issues the certificate without the
 * request and locks it, so the old certificate stops working; and exec skips a locked
 * request it could otherwise reuse, because this user may list locks.
 */

import { readFileSync } from 'node:fs';
import { chmod, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, run } from '../../src/cli/commands/exec.js';
import { CliContext } from '../../src/cli/context.js';
import { parseIdentityFile } from '../../src/identity/identity-file.js';
import { parseIdentity } from '../../src/identity/x509.js';
import type { RequestLock } from '../../src/model/lock.js';
import type { AccessRequest } from '../../src/model/request.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer, type TestServer } from '../helpers/e2e.js';
import { fakeIO, runCli } from '../helpers/run-cli.js';

const SEED = `
kind: role
version: v7
metadata: { name: dba-requester }
spec:
  allow:
    request:
      roles: [dba]
      suggested_reviewers: [bob]
---
kind: role
version: v7
metadata: { name: locker }
spec:
  allow:
    rules:
      - resources: [lock]
        verbs: [list, read, create, update, delete]
---
kind: role
version: v7
metadata: { name: dba }
spec: { allow: { logins: [postgres] } }
---
kind: role
version: v7
metadata: { name: reviewer }
spec: { allow: { review_requests: { roles: [dba] } } }
---
kind: user
version: v2
metadata: { name: ops }
spec: { roles: [dba-requester, locker] }
---
kind: user
version: v2
metadata: { name: bob }
spec: { roles: [reviewer] }
`;

const CREATED = /Created access request (\S+) \(PENDING\)/;

let ts: TestServer;
let dir: string;
let server: RunningServer;
/** ops's own identity, a copy the commands may re-issue. */
let ops: string;

const envOf = (identity: string) => ({
  HOME: dir,
  ACCESS_AUTH_SERVER: server.addr,
  ACCESS_IDENTITY: identity,
});
const asOps = (argv: string[]) => runCli(argv, { env: envOf(ops) });
const asBob = (argv: string[]) => runCli(argv, { env: envOf(server.identityPath('bob')) });

async function approvedRequest(): Promise<string> {
  const r = await asOps(['request', 'create', '--roles', 'dba', '--reason', 'x', '--nowait', '-f', 'json']);
  expect(r.code, r.stderr).toBe(0);
  const id = (JSON.parse(r.stdout) as AccessRequest).id;
  expect((await asBob(['request', 'review', id, '--approve'])).code).toBe(0);
  return id;
}

async function locks(): Promise<RequestLock[]> {
  const r = await asOps(['lock', 'ls', '-f', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RequestLock[];
}

/** Runs `access exec --roles dba … -- node -v` in-process; the child is a stand-in. */
async function exec(flags: Record<string, unknown>, child: (identity: string) => Promise<void> | void) {
  const io = fakeIO({ env: envOf(ops) });
  let approved: Promise<void> | undefined;
  const write = io.err.write.bind(io.err);
  io.err.write = (chunk: string) => {
    const id = chunk.match(CREATED)?.[1];
    if (id) {
      approved = asBob(['request', 'review', id, '--approve']).then((r) => {
        expect(r.code, r.stderr).toBe(0);
      });
    }
    return write(chunk);
  };
  const ctx = new CliContext({
    ...io,
    spawnChild(_cmd, _args, env) {
      const exited = Promise.resolve(child(env.ACCESS_IDENTITY)).then(() => ({ code: 0, signal: null }));
      return { kill: () => false, exited };
    },
  });
  const opts = parse([[process.execPath, '-v']], { roles: ['dba'], reason: 'maintenance', ...flags });
  const code = await run(ctx, opts).finally(() => ctx.close());
  await approved;
  return { code, err: io.err.text };
}

beforeAll(async () => {
  ts = await startTestServer({ seed: SEED });
  ({ dir, server } = ts);
  ops = join(dir, 'ops.pem');
  await copyFile(server.identityPath('ops'), ops);
  await chmod(ops, 0o600);
});

afterAll(async () => {
  await ts?.close();
});

describe('exec --lock', () => {
  test('ends with the request locked (GetLocks shows it) and the identity that carried it refused', async () => {
    const kept = join(dir, 'exec-identity.pem');
    const { code, err } = await exec({ lock: true }, async (identity) => {
      await copyFile(identity, kept);
    });
    expect(code, err).toBe(0);
    const id = err.match(CREATED)?.[1] ?? '';
    expect(err).toContain(`Locked access request ${id}\n`);
    expect((await locks()).filter((l) => l.access_request === id)).toMatchObject([
      { access_request: id, in_force: true, created_by: 'ops' },
    ]);
    const refused = await runCli(['request', 'ls'], { env: envOf(kept) });
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain(`lock targeting AccessRequest:"${id}" is in force`);
    expect((await asOps(['request', 'ls'])).code).toBe(0);
  });
});

describe('drop --lock', () => {
  test('re-issues the certificate without the request, locks it, and the old certificate is refused', async () => {
    const id = await approvedRequest();
    const waited = await asOps(['request', 'wait', id]);
    expect(waited.code, waited.stderr).toBe(0);
    const assumed = join(dir, 'assumed.pem');
    await copyFile(ops, assumed);
    expect(activeRequests(assumed)).toEqual([id]);

    const dropped = await asOps(['request', 'drop', id, '--lock', '-f', 'json']);
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(JSON.parse(dropped.stdout)).toMatchObject({ dropped: [id], active_requests: [] });
    expect(activeRequests(ops)).toEqual([]);
    expect((await locks()).map((l) => l.access_request)).toContain(id);

    const refused = await runCli(['request', 'ls'], { env: envOf(assumed) });
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain(`lock targeting AccessRequest:"${id}" is in force`);
    expect((await asOps(['request', 'ls'])).code).toBe(0);
  });
});

describe('exec reuse', () => {
  test('a user who may list locks never picks a locked request: a new one is made up front', async () => {
    const locked = await approvedRequest();
    expect((await asOps(['request', 'lock', locked])).code).toBe(0);
    const seen: string[][] = [];
    const { code, err } = await exec({}, (identity) => {
      seen.push(activeRequests(identity));
    });
    expect(code, err).toBe(0);
    const fresh = err.match(CREATED)?.[1];
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(locked);
    // Skipped before any certificate was asked for, not refused afterwards.
    expect(err).not.toContain('is locked; requesting access again');
    expect(seen).toEqual([[fresh]]);
  });
});

function activeRequests(path: string): string[] {
  return parseIdentity(parseIdentityFile(readFileSync(path, 'utf8'), path).certPem).activeRequests;
}
