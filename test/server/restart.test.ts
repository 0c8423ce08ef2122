import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessRequestFilter, AccessRequestV3 } from '../../src/gen/teleport/legacy/types/types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { connectIdentity, type TestClient, watchRequests } from '../helpers/grpc.js';

let dir: string;
let server: RunningServer | undefined;
const clients: TestClient[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-server-'));
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop({ graceMs: 1000 });
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(opts: { clusterName?: string } = {}): Promise<RunningServer> {
  server = await startServer({ dataDir: dir, listen: '127.0.0.1:0', ...opts });
  return server;
}

async function client(user: string): Promise<TestClient> {
  const c = await connectIdentity(server!.addr, server!.identityPath(user));
  clients.push(c);
  return c;
}

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe('server start and restart', () => {
  it('initializes an empty data dir: CAs, private keys, identities, server.json', async () => {
    const s = await start();
    expect(s.addr).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(s.addr).not.toBe('127.0.0.1:0');
    expect(s.clusterName).toBe('local');
    expect(JSON.parse(await readFile(join(dir, 'server.json'), 'utf8'))).toEqual({
      addr: s.addr,
      cluster: 'local',
    });
    for (const user of ['alice', 'bob', 'carol', 'admin']) {
      expect(s.identityPath(user)).toBe(join(dir, 'identities', `${user}.pem`));
      expect(await mode(s.identityPath(user))).toBe(0o600);
    }
    for (const key of ['ca/user.key', 'ca/host.key', 'server.key'])
      expect(await mode(join(dir, key))).toBe(0o600);
    const identity = await readFile(s.identityPath('alice'), 'utf8');
    expect(identity).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(identity).toMatch(/\necdsa-sha2-nistp256-cert-v01@openssh\.com /);
    expect(identity).toMatch(/\n@cert-authority local,\*\.local ecdsa-sha2-nistp256 \S+ type=host\n/);
    expect(identity.match(/BEGIN CERTIFICATE/g)).toHaveLength(3);

    const ping = await (await client('alice')).call('ping', {});
    expect(ping).toMatchObject({ clusterName: 'local', serverVersion: '18.0.0' });
    expect(ping.remoteAddr).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('reuses the directory: same CAs, identities still valid, requests survive', async () => {
    let s = await start();
    const alice = await client('alice');
    const created = await alice.call(
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles: ['auditor'], requestReason: 'restart test' },
      }),
    );
    const id = created.metadata!.name;
    const hostCa = await readFile(join(dir, 'ca', 'host.crt'), 'utf8');
    const userCa = await readFile(join(dir, 'ca', 'user.crt'), 'utf8');
    const identity = await readFile(s.identityPath('alice'), 'utf8');
    for (const c of clients.splice(0)) c.close();
    await s.stop();

    s = await start();
    expect(await readFile(join(dir, 'ca', 'host.crt'), 'utf8')).toBe(hostCa);
    expect(await readFile(join(dir, 'ca', 'user.crt'), 'utf8')).toBe(userCa);
    expect(await readFile(s.identityPath('alice'), 'utf8')).toBe(identity);
    expect(JSON.parse(await readFile(join(dir, 'server.json'), 'utf8')).addr).toBe(s.addr);
    const again = await client('alice');
    const found = await again.collect('getAccessRequestsV2', AccessRequestFilter.fromPartial({ id }));
    expect(found).toHaveLength(1);
    expect(found[0].spec).toMatchObject({ user: 'alice', roles: ['auditor'], requestReason: 'restart test' });
    expect(found[0].metadata?.revision).toBe(created.metadata?.revision);
  });

  it('refuses a different cluster name for an existing directory', async () => {
    const s = await start({ clusterName: 'one' });
    await s.stop();
    server = undefined;
    await expect(start({ clusterName: 'two' })).rejects.toThrow(/belongs to cluster "one"/);
    server = undefined;
    // The failed start released the lock: a correct start still works.
    expect((await start()).clusterName).toBe('one');
  });

  it('refuses a second server on the same directory', async () => {
    await start();
    await expect(startServer({ dataDir: dir, listen: '127.0.0.1:0' })).rejects.toThrow(/in use/);
  });

  it('stop ends watch streams with Unavailable and refuses new connections', async () => {
    const s = await start();
    const alice = await client('alice');
    const w = watchRequests(alice, { user: 'alice' });
    expect((await w.next()).type).toBe(0);
    await s.stop({ graceMs: 1000 });
    server = undefined;
    expect(await w.closed()).toMatchObject({ code: 14, details: 'server is shutting down' });
    await expect(alice.call('ping', {}, 2000)).rejects.toMatchObject({ code: 14 });
  });
});
