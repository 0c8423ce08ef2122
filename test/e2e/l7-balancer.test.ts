import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect } from '../../src/client/connect.js';
import { readIdentityFile } from '../../src/identity/identity-file.js';
import type { AccessRequest } from '../../src/model/request.js';
import { copyIdentity, identityOf, runAccess, startTestServer, type TestServer } from '../helpers/e2e.js';
import { connectIdentity, type TestClient, watchRequests } from '../helpers/grpc.js';
import { type L7Balancer, startAlpnRouter, startL7Balancer } from '../helpers/l7.js';
import { runCli } from '../helpers/run-cli.js';

let server: TestServer;
let router: Awaited<ReturnType<typeof startAlpnRouter>>;
let lb: L7Balancer;
let refusing: L7Balancer;
let lbCaFile: string;
let admin: TestClient;

beforeAll(async () => {
  server = await startTestServer();
  const port = Number(server.addr.split(':').pop());
  router = await startAlpnRouter(port, server.cluster);
  lb = await startL7Balancer(router.port);
  refusing = await startL7Balancer(router.port, { refuse: true });
  lbCaFile = join(server.dir, 'lb-ca.pem');
  await writeFile(lbCaFile, lb.caPem + refusing.caPem);
  admin = await connectIdentity(server.addr, server.identity('admin'));
});

afterAll(async () => {
  admin?.close();
  await lb?.close();
  await refusing?.close();
  await router?.close();
  await server?.close();
});

/** `user` reaching the cluster only through `balancer` (no auth address at all). */
async function behind(balancer: L7Balancer, user: string, extra: Record<string, string> = {}) {
  const { path } = await copyIdentity(server, user);
  const env: Record<string, string> = {
    HOME: server.dir,
    ACCESS_PROXY: balancer.address,
    ACCESS_IDENTITY: path,
    SSL_CERT_FILE: lbCaFile,
    ...extra,
  };
  return { path, env };
}

describe('a Proxy behind an L7 load balancer', () => {
  test('the whole request loop runs through the connection upgrade, found by the probe', async () => {
    const alice = await behind(lb, 'alice');
    const bob = await behind(lb, 'bob');
    const watch = watchRequests(admin);
    await watch.next();
    const before = lb.upgrades.length;

    const created = runCli(
      ['request', 'create', '--roles', 'dba', '--reason', 'behind an ALB', '--format', 'json'],
      {
        env: alice.env,
      },
    );
    const put = await watch.next(15_000);
    watch.cancel();
    const id = put.resource?.$case === 'accessRequest' ? put.resource.value.metadata!.name : '';
    expect(id).not.toBe('');

    const review = await runCli(['request', 'review', id, '--approve', '--reason', 'ok'], { env: bob.env });
    expect(review.stderr).toBe('Successfully submitted review.  Request state: APPROVED\n');
    expect(review.code).toBe(0);

    const done = await created;
    expect(done.code).toBe(0);
    expect((JSON.parse(done.stdout) as AccessRequest).state).toBe('APPROVED');
    expect((await identityOf(alice.path)).activeRequests).toEqual([id]);

    const drop = await runCli(['request', 'drop', id], { env: alice.env });
    expect(drop.code).toBe(0);
    expect((await identityOf(alice.path)).activeRequests).toEqual([]);

    const used = lb.upgrades.slice(before);
    expect(used.length).toBeGreaterThan(0);
    expect(new Set(used)).toEqual(new Set(['websocket:alpn-ping']));
    expect(router.offered.at(-1)?.[0]).toMatch(/^teleport-auth@/);
    // The first direct handshake failed, and IsALPNConnUpgradeRequired's probe decided.
    expect(lb.offered).toContainEqual(['teleport-reversetunnel']);
  });

  test("the tsh profile's tls_routing_conn_upgrade_required upgrades from the first connection", async () => {
    const creds = await readIdentityFile(server.identity('alice'));
    const source = {
      kind: 'tsh-profile' as const,
      home: server.dir,
      profile: 'lb',
      user: 'alice',
      proxyAddr: lb.address,
      cluster: server.cluster,
      tlsRoutingConnUpgradeRequired: true,
    };
    const before = { offered: lb.offered.length, upgrades: lb.upgrades.length };
    const conn = await connect({
      proxy: lb.address,
      credentials: { ...creds, source },
      connUpgrade: { rootCaPems: [lb.caPem] },
    });
    try {
      await expect(conn.auth.ping()).resolves.toMatchObject({ clusterName: server.cluster });
    } finally {
      conn.close();
    }
    expect(lb.upgrades.length).toBeGreaterThan(before.upgrades);
    // Neither a direct attempt nor a probe: only the upgrade's own TLS (no ALPN) reached it.
    expect(lb.offered.slice(before.offered)).toEqual([]);
  });

  test('the binary exits as soon as it is done: the tunnel keeps nothing open', async () => {
    const alice = await behind(lb, 'alice', { PATH: process.env.PATH ?? '' });
    const r = await runAccess(['request', 'ls', '--mine', '--format', 'json'], alice.env, 10_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  test('TELEPORT_TLS_ROUTING_CONN_UPGRADE=true upgrades without probing', async () => {
    const alice = await behind(lb, 'alice', { TELEPORT_TLS_ROUTING_CONN_UPGRADE: `0,${lb.address}=yes` });
    const before = lb.upgrades.length;
    const r = await runCli(['request', 'ls', '--mine', '--format', 'json', '--debug'], { env: alice.env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `debug: connection upgrade to the Auth Service through the Proxy at ${lb.address} (WebSocket alpn-ping): TELEPORT_TLS_ROUTING_CONN_UPGRADE\n`,
    );
    expect(Array.isArray(JSON.parse(r.stdout))).toBe(true);
    expect(lb.upgrades.length).toBeGreaterThan(before);
  });

  test('TELEPORT_TLS_ROUTING_CONN_UPGRADE_MODE=legacy sends Upgrade: alpn', async () => {
    const alice = await behind(lb, 'alice', {
      TELEPORT_TLS_ROUTING_CONN_UPGRADE: 'true',
      TELEPORT_TLS_ROUTING_CONN_UPGRADE_MODE: 'legacy',
    });
    const before = lb.upgrades.length;
    const r = await runCli(['request', 'ls', '--mine', '--format', 'json'], { env: alice.env });
    expect(r.code).toBe(0);
    expect(lb.upgrades.slice(before)[0]).toBe('legacy:alpn');
  });

  test('a proxy that refuses the upgrade: one line, exit 8, the identity untouched', async () => {
    const alice = await behind(refusing, 'alice', { TELEPORT_TLS_ROUTING_CONN_UPGRADE: 'true' });
    const bytes = await readFile(alice.path);
    const r = await runCli(['request', 'create', '--roles', 'dba', '--reason', 'x', '--nowait'], {
      env: alice.env,
    });
    expect(r.code).toBe(8);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^error: cannot reach the Auth Service through the Proxy at 127\.0\.0\.1:\d+: the Proxy refused the connection upgrade \(HTTP 404 on \/webapi\/connectionupgrade\)\nhint: .+\n$/,
    );
    expect(await readFile(alice.path)).toEqual(bytes);
  });

  test("a balancer certificate outside SSL_CERT_FILE: exit 8 naming the balancer's certificate", async () => {
    const alice = await behind(lb, 'alice', { TELEPORT_TLS_ROUTING_CONN_UPGRADE: 'on' });
    delete alice.env.SSL_CERT_FILE;
    const r = await runCli(['request', 'ls'], { env: alice.env });
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(
      /^error: .*connection upgrade failed: the certificate of the load balancer at 127\.0\.0\.1:\d+ is not signed by a trusted CA\nhint: set SSL_CERT_FILE/,
    );
  });

  test('a malformed TELEPORT_TLS_ROUTING_CONN_UPGRADE is a usage error (exit 2) and changes nothing', async () => {
    const alice = await behind(lb, 'alice', { TELEPORT_TLS_ROUTING_CONN_UPGRADE: 'proxy:443=maybe' });
    const bytes = await readFile(alice.path);
    const before = lb.upgrades.length;
    const r = await runCli(['request', 'drop'], { env: alice.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error: invalid TELEPORT_TLS_ROUTING_CONN_UPGRADE "proxy:443=maybe": .+\nhint: .+\n$/,
    );
    expect(await readFile(alice.path)).toEqual(bytes);
    expect(lb.upgrades.length).toBe(before);
  });
});
