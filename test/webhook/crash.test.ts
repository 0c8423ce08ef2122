/**
 * At-least-once across kill -9: the bridge runs as a child process and is killed between
 * events; changes made while it is down arrive after a restart (every transition of every
 * request at least once).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { killSpawned, spawnCli } from '../helpers/e2e.js';
import { fakeIO } from '../helpers/run-cli.js';
import { localTls, type Receiver, startReceiver, writeBridgeConfig } from './helpers.js';

const SECRET = 'crash-secret';
let dir: string;
let server: RunningServer;
let receiver: Receiver;
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-webhook-crash-'));
  server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  const tls = await localTls();
  receiver = await startReceiver(tls, Buffer.from(SECRET));
  config = await writeBridgeConfig(dir, {
    identity: server.identityPath('admin'),
    authServer: server.addr,
    tls,
    secret: SECRET,
    url: receiver.url,
    notifyOnly: true,
  });
});

afterAll(async () => {
  killSpawned();
  await receiver.close();
  await server.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
});

async function access(user: string, args: string[]) {
  const io = fakeIO({
    env: { ACCESS_AUTH_SERVER: server.addr, ACCESS_IDENTITY: server.identityPath(user), HOME: dir },
  });
  const code = await main(args, io);
  expect(code, io.err.text).toBe(0);
  return io.out.text;
}

function bridge() {
  const p = spawnCli(['webhook', 'serve', '--config', config], { PATH: process.env.PATH ?? '', HOME: dir });
  return p;
}

async function kill9(p: ReturnType<typeof bridge>): Promise<void> {
  p.child.kill('SIGKILL');
  const exit = await p.exited(10_000);
  expect(exit.signal).toBe('SIGKILL');
}

const event =
  (id: string, what: string) =>
  (r: { body: { id: string; type: string; request: { state: string } | null } }) =>
    r.body.id === id && (what === 'deleted' ? r.body.type === 'delete' : r.body.request?.state === what);

it('loses no transition when the bridge is killed -9 between events', async () => {
  let b = bridge();
  const r = JSON.parse(
    await access('alice', [
      'request',
      'create',
      '--roles',
      'auditor',
      '--reason',
      'a',
      '--nowait',
      '-f',
      'json',
    ]),
  ).id as string;
  await receiver.waitFor(event(r, 'PENDING'));
  await kill9(b);

  // While the bridge is down: one request approved, another created.
  await access('admin', ['request', 'approve', r, '--reason', 'while down']);
  const s = JSON.parse(
    await access('alice', [
      'request',
      'create',
      '--roles',
      'auditor',
      '--reason',
      'b',
      '--nowait',
      '-f',
      'json',
    ]),
  ).id as string;
  b = bridge();
  await receiver.waitFor(event(r, 'APPROVED'));
  await receiver.waitFor(event(s, 'PENDING'));
  await kill9(b);

  await access('admin', ['request', 'rm', r, '--force']);
  await access('admin', ['request', 'deny', s, '--reason', 'no']);
  b = bridge();
  await receiver.waitFor(event(r, 'deleted'));
  await receiver.waitFor(event(s, 'DENIED'));
  b.child.kill('SIGTERM');
  expect((await b.exited(10_000)).code).toBe(0);

  const seen = (id: string) =>
    new Set(
      receiver.got
        .filter((g) => g.body.id === id)
        .map((g) => (g.body.type === 'delete' ? 'deleted' : g.body.request?.state)),
    );
  expect(seen(r)).toEqual(new Set(['PENDING', 'APPROVED', 'deleted']));
  expect(seen(s)).toEqual(new Set(['PENDING', 'DENIED']));
  expect(receiver.got.every((g) => g.signed)).toBe(true);
});
