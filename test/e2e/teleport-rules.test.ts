/**
 * The request loop for ordinary users, in-process against the embedded server: requesters
 * and reviewers hold preset-like roles without `rules`, as on a real cluster, so every watch
 * and re-issue is subject to the rules Teleport enforces for them (issue 9).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Operation } from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import { copyIdentity, identityOf, startTestServer, type TestServer } from '../helpers/e2e.js';
import { connectIdentity, type StreamQueue, type TestClient, watchRequests } from '../helpers/grpc.js';
import { fakeIO, runCli } from '../helpers/run-cli.js';

let server: TestServer;
let admin: TestClient;
let adminWatch: StreamQueue<import('../../src/gen/teleport/legacy/client/proto/authservice.js').Event>;

beforeAll(async () => {
  server = await startTestServer();
  admin = await connectIdentity(server.addr, server.identity('admin'));
  adminWatch = watchRequests(admin);
  expect((await adminWatch.next()).type).toBe(Operation.INIT);
});

afterAll(async () => {
  adminWatch?.cancel();
  admin?.close();
  await server?.close();
});

const seenIds = new Set<string>();

/** The ID of the next request `user` creates, from the admin's watch (no polling). */
async function nextCreated(user: string): Promise<string> {
  for (;;) {
    const e = await adminWatch.next(15_000);
    const r = e.resource;
    if (e.type !== Operation.PUT || r?.$case !== 'accessRequest') continue;
    const id = r.value.metadata!.name;
    if (seenIds.has(id)) continue;
    seenIds.add(id);
    if (r.value.spec?.user === user) return id;
  }
}

/** A command running in-process until `stop()`; `output()` resolves when stdout matches. */
function startInProcess(argv: string[], env: Record<string, string>) {
  const ac = new AbortController();
  const io = fakeIO({ env: { HOME: '/nonexistent-home', ...env }, signal: ac.signal });
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const write = io.out.write.bind(io.out);
  io.out.write = (chunk: string) => {
    const r = write(chunk);
    for (const w of [...waiters]) {
      if (w.re.test(io.out.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    return r;
  };
  const done = main(argv, io);
  return {
    io,
    done,
    output(re: RegExp, timeoutMs = 15_000): Promise<void> {
      if (re.test(io.out.text)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`stdout never matched ${re}: ${io.out.text}`)),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async stop(): Promise<number> {
      ac.abort();
      return done;
    },
  };
}

describe('the request loop with preset-like roles (no rules for requester and reviewers)', () => {
  test('search, create that waits, two reviews, assume, drop; bob watches his own view', async () => {
    const alice = await copyIdentity(server, 'alice');
    const bobWatch = startInProcess(['request', 'watch', '--format', 'json'], server.env('bob'));
    await bobWatch.output(/"type":"init"/);
    expect(bobWatch.io.err.text).toContain(
      `note: you may not watch every user's requests (no "read" rule on access_request); watching bob's own`,
    );

    const search = await runCli(['request', 'search', '--kind', 'node', '--format', 'json'], {
      env: alice.env,
    });
    expect(search.code, search.stderr).toBe(0);
    expect(JSON.parse(search.stdout).map((r: { hostname: string }) => r.hostname)).toContain('web-1');

    const create = runCli(['request', 'create', '--roles', 'auditor', '--reason', 'preset roles'], {
      env: alice.env,
    });
    const id = await nextCreated('alice');
    for (const reviewer of ['bob', 'carol']) {
      const r = await runCli(['request', 'review', id, '--approve'], { env: server.env(reviewer) });
      expect(r.code, r.stderr).toBe(0);
    }
    const created = await create;
    expect(created.code, created.stderr).toBe(0);
    const assumed = await identityOf(alice.path);
    expect(assumed.activeRequests).toEqual([id]);
    expect(assumed.roles).toContain('auditor');

    const drop = await runCli(['request', 'drop', id], { env: alice.env });
    expect(drop.code, drop.stderr).toBe(0);
    expect((await identityOf(alice.path)).activeRequests).toEqual([]);

    expect(await bobWatch.stop()).toBe(0);
    const events = bobWatch.io.out.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; id: string });
    // Bob's own view: alice's request never reaches him as a PUT.
    expect(events.filter((e) => e.type === 'put')).toEqual([]);
    expect(bobWatch.io.err.text).not.toMatch(/error/);
  });

  test("watching another user without a read rule is refused with Teleport's message (exit 7)", async () => {
    const r = await runCli(['request', 'watch', '--user', 'alice'], { env: server.env('bob') });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^error: access denied to perform action "read" on "access_request"$/m);
  });

  test('an identity as `tctl auth sign` makes it sees the approval but cannot assume it: exit 9', async () => {
    const path = join(server.dir, 'alice-tctl-signed.pem');
    await server.server.signIdentity('alice', path);
    const env = { ...server.env('alice'), ACCESS_IDENTITY: path };
    const before = await identityOf(path);
    expect(before.impersonator).toMatch(/^[0-9a-f-]{36}\.local$/);

    const create = runCli(['request', 'create', '--roles', 'auditor', '--reason', 'signed'], { env });
    const id = await nextCreated('alice');
    for (const reviewer of ['bob', 'carol']) {
      expect((await runCli(['request', 'review', id, '--approve'], { env: server.env(reviewer) })).code).toBe(
        0,
      );
    }
    const r = await create;
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: request ${id} is approved, but this identity cannot assume it: it was issued for alice by ${before.impersonator}`,
        'm',
      ),
    );
    expect(r.stderr).toMatch(/^hint: assume it with credentials from `tsh login`/m);
    expect(r.stdout).toContain(id);
    // Nothing was asked of the server and nothing rewritten.
    expect(await identityOf(path)).toEqual(before);
  });
});
