/**
 * `access` on a tsh home, as people use it after `tsh login` (issue 13): v16 and v17 layouts,
 * the root or a leaf selected. Assuming and dropping rewrite the TLS and the SSH certificate
 * and drop the per-service caches, as tsh's ReissueUserCerts with CertCacheDrop does.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Operation, UserCertsRequest } from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import { parseSshCertificate, sshPublicKeyFromPem } from '../../src/identity/ssh.js';
import { parseIdentity } from '../../src/identity/x509.js';
import { startTestServer, type TestServer } from '../helpers/e2e.js';
import { connectIdentity, type StreamQueue, type TestClient, watchRequests } from '../helpers/grpc.js';
import { runCli } from '../helpers/run-cli.js';

type Event = import('../../src/gen/teleport/legacy/client/proto/authservice.js').Event;

const PROXY = 'proxy.example.com';
let server: TestServer;
let alice: TestClient;
let admin: TestClient;
let adminWatch: StreamQueue<Event>;
const seen = new Set<string>();

beforeAll(async () => {
  server = await startTestServer();
  alice = await connectIdentity(server.addr, server.identity('alice'));
  admin = await connectIdentity(server.addr, server.identity('admin'));
  adminWatch = watchRequests(admin);
  expect((await adminWatch.next()).type).toBe(Operation.INIT);
});

afterAll(async () => {
  adminWatch?.cancel();
  alice?.close();
  admin?.close();
  await server?.close();
});

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

interface Home {
  home: string;
  keys: string;
  tlsCert: string;
  sshCert: string;
  sshPub: string;
}

/**
 * A tsh home logged in as alice: v16 shares one key between TLS and SSH (`alice`,
 * `alice-x509.pem`), v17 has `alice.key`/`alice.crt` and a separate SSH key. `selected` is
 * the profile's cluster: the root (`local`) or a leaf. Cached per-service certificates and an
 * SSH certificate for the leaf are there, as after `tsh db login` and friends.
 */
async function tshHome(layout: 'v16' | 'v17', selected: string): Promise<Home> {
  const home = join(server.dir, `tsh-${layout}-${selected}-${Math.random().toString(36).slice(2)}`);
  const keys = join(home, 'keys', PROXY);
  await mkdir(join(keys, 'cas'), { recursive: true });
  await writeFile(join(home, 'current-profile'), PROXY);
  await writeFile(
    join(home, `${PROXY}.yaml`),
    `web_proxy_addr: ${PROXY}:443\nuser: alice\ncluster: ${selected}\n`,
  );
  const tls = keyPair();
  const ssh = layout === 'v16' ? tls : keyPair();
  const sshLine = sshPublicKeyFromPem(ssh.publicKeyPem);
  const certs = await alice.call(
    'generateUserCerts',
    UserCertsRequest.fromPartial({
      username: 'alice',
      tlsPublicKey: Buffer.from(tls.publicKeyPem),
      sshPublicKey: Buffer.from(`${sshLine}\n`),
      routeToCluster: selected,
      expires: new Date(Date.now() + 3600_000),
    }),
  );
  const tlsCert = join(keys, layout === 'v16' ? 'alice-x509.pem' : 'alice.crt');
  await writeFile(tlsCert, certs.tls, { mode: 0o600 });
  if (layout === 'v17') await writeFile(join(keys, 'alice.key'), tls.keyPem, { mode: 0o600 });
  await writeFile(join(keys, 'alice'), ssh.keyPem, { mode: 0o600 });
  await writeFile(join(keys, 'alice.pub'), `${sshLine}\n`);
  await writeFile(join(keys, 'cas', 'local.pem'), certs.tlsCaCerts.map((b) => b.toString()).join(''));
  const sshCert = join(keys, 'alice-ssh', 'local-cert.pub');
  await mkdir(join(keys, 'alice-ssh'), { recursive: true });
  await writeFile(sshCert, certs.ssh, { mode: 0o600 });
  await writeFile(join(keys, 'alice-ssh', 'leaf1-cert.pub'), certs.ssh, { mode: 0o600 });
  for (const [dir, file] of [
    ['alice-db', 'orders-x509.pem'],
    ['alice-app', 'grafana.crt'],
    ['alice-kube', 'minikube.crt'],
  ]) {
    await mkdir(join(keys, dir, 'local'), { recursive: true });
    await writeFile(join(keys, dir, 'local', file), certs.tls, { mode: 0o600 });
  }
  return { home, keys, tlsCert, sshCert, sshPub: join(keys, 'alice.pub') };
}

async function nextCreated(): Promise<string> {
  for (;;) {
    const e = await adminWatch.next(15_000);
    const r = e.resource;
    if (e.type !== Operation.PUT || r?.$case !== 'accessRequest') continue;
    const id = r.value.metadata!.name;
    if (seen.has(id)) continue;
    seen.add(id);
    if (r.value.spec?.user === 'alice') return id;
  }
}

async function activeRequests(h: Home): Promise<{ tls: string[]; ssh: string[] }> {
  const tls = parseIdentity(await readFile(h.tlsCert, 'utf8')).activeRequests;
  const cert = parseSshCertificate((await readFile(h.sshCert, 'utf8')).trim());
  const ext = cert.extensions['teleport-active-requests'];
  // The SSH certificate must stay the one for the profile's SSH key.
  expect(cert.publicKey.split(' ').slice(0, 2)).toEqual(
    (await readFile(h.sshPub, 'utf8')).trim().split(' ').slice(0, 2),
  );
  return { tls, ssh: ext ? (JSON.parse(ext) as { access_requests: string[] }).access_requests : [] };
}

describe('re-issue into a tsh profile', () => {
  for (const layout of ['v16', 'v17'] as const) {
    for (const selected of ['local', 'leaf1']) {
      test(`${layout} with ${selected === 'local' ? 'the root' : 'a leaf'} selected: assume and drop reach both certificates; caches go`, async () => {
        const h = await tshHome(layout, selected);
        const env = { TELEPORT_HOME: h.home, ACCESS_AUTH_SERVER: server.addr };
        const create = runCli(['request', 'create', '--roles', 'dba', '--reason', `tsh ${layout}`], { env });
        const id = await nextCreated();
        const review = await runCli(['request', 'review', id, '--approve'], { env: server.env('bob') });
        expect(review.code, review.stderr).toBe(0);
        const created = await create;
        expect(created.code, created.stderr).toBe(0);
        expect(await activeRequests(h)).toEqual({ tls: [id], ssh: [id] });
        expect(parseIdentity(await readFile(h.tlsCert, 'utf8')).routeToCluster).toBe(selected);
        expect((await readdir(h.keys)).filter((n) => /^alice-(db|app|kube)$/.test(n))).toEqual([]);
        expect(await readdir(join(h.keys, 'alice-ssh'))).toEqual(['local-cert.pub']);
        for (const f of [h.tlsCert, h.sshCert]) expect((await stat(f)).mode & 0o777).toBe(0o600);

        const drop = await runCli(['request', 'drop', id], { env });
        expect(drop.code, drop.stderr).toBe(0);
        expect(await activeRequests(h)).toEqual({ tls: [], ssh: [] });
        await rm(h.home, { recursive: true, force: true });
      });
    }
  }

  test('search names the selected cluster (TELEPORT_CLUSTER) in resource IDs', async () => {
    const h = await tshHome('v17', 'local');
    const env = { TELEPORT_HOME: h.home, ACCESS_AUTH_SERVER: server.addr, TELEPORT_CLUSTER: 'leaf1' };
    const r = await runCli(['request', 'search', '--kind', 'node', '--format', 'json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const ids = (JSON.parse(r.stdout) as { resource_id: string }[]).map((x) => x.resource_id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => id.startsWith('/leaf1/node/'))).toBe(true);
  });

  test('a hardware (PIV) key is named as such, exit 7, and ~/.tsh is left as it was', async () => {
    const h = await tshHome('v17', 'local');
    const piv = '-----BEGIN PIV YUBIKEY PRIVATE KEY-----\nAAAA\n-----END PIV YUBIKEY PRIVATE KEY-----\n';
    await writeFile(join(h.keys, 'alice.key'), piv, { mode: 0o600 });
    const before = await readFile(h.tlsCert, 'utf8');
    const r = await runCli(['request', 'ls'], {
      env: { TELEPORT_HOME: h.home, ACCESS_AUTH_SERVER: server.addr },
    });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(
      /^error: tsh profile "proxy.example.com": its key lives on a hardware token \(PIV\), which access does not support yet$/m,
    );
    expect(r.stderr).toMatch(/^hint: use an identity file instead: tsh login --out=FILE/m);
    expect(await readFile(join(h.keys, 'alice.key'), 'utf8')).toBe(piv);
    expect(await readFile(h.tlsCert, 'utf8')).toBe(before);
  });
});
