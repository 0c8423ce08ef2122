import { randomUUID } from 'node:crypto';
// Webhook bridge benchmark (run after `npm run build`; `npm run bench` does both):
//  1. latency: SetAccessRequestState committed → signed POST received by a local HTTPS
//     receiver, one change at a time (p50/p99);
//  2. throughput: a burst of changes, events/s until the receiver has them all.
// One bridge, one receiver, loopback. Prints figures; asserts nothing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectAccess } from '../../dist/client/connect.js';
import { AccessRequestV3, RequestState } from '../../dist/gen/teleport/legacy/types/types.js';
import { readIdentityFile } from '../../dist/identity/identity-file.js';
import { generateKey } from '../../dist/identity/keys.js';
import { createCertificateAuthority, issueCertificate } from '../../dist/identity/x509.js';
import { startServer } from '../../dist/server/index.js';
import { WebhookBridge } from '../../dist/webhook/bridge.js';
import { parseWebhookConfig } from '../../dist/webhook/config.js';
import { call, connect, pct } from './lib.mjs';

const SAMPLES = 200;
const BURST = 500;

const dir = await mkdtemp(join(tmpdir(), 'access-bench-webhook-'));
const server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
const now = new Date();
const ca = await createCertificateAuthority({ clusterName: 'bench', kind: 'host', now });
const key = await generateKey('ecdsa-p256');
const certPem = await issueCertificate({
  ca,
  publicKeyPem: key.publicKeyPem,
  identity: { username: 'receiver', roles: [], traits: {}, activeRequests: [], allowedResourceIds: [] },
  notAfter: new Date(now.getTime() + 3600_000),
  now,
  dnsNames: ['localhost'],
  ipAddresses: ['127.0.0.1'],
});
await writeFile(join(dir, 'ca.pem'), ca.certPem);

/** Receipt times by request ID and state. */
const seen = new Map();
const waiters = new Map();
const receiver = https.createServer({ key: key.privateKeyPem, cert: certPem }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const t = performance.now();
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const k = `${body.id}/${body.request?.state ?? 'deleted'}`;
    if (!seen.has(k)) seen.set(k, t);
    waiters.get(k)?.(t);
    res.writeHead(200).end();
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const url = `https://127.0.0.1:${receiver.address().port}/`;
const arrival = (k) => (seen.has(k) ? Promise.resolve(seen.get(k)) : new Promise((r) => waiters.set(k, r)));

const config = await parseWebhookConfig(
  `[webhook]
webhook_url = "${url}"
notify_only = true
callback_secret = "bench"
ca_file = "${join(dir, 'ca.pem')}"
state_file = "${join(dir, 'state.json')}"
request_statuses = { "Pending" = false, "Approved" = true }
`,
  'bench.toml',
);
const conn = await connectAccess({
  credentials: await readIdentityFile(server.identityPath('admin')),
  authServer: server.addr,
});
const stop = new AbortController();
const bridge = await WebhookBridge.create({
  config,
  conn,
  secret: Buffer.from('bench'),
  cluster: 'local',
  log: () => {},
  signal: stop.signal,
});
const running = bridge.run();

const alice = await connect(server.addr, server.identityPath('alice'));
const admin = await connect(server.addr, server.identityPath('admin'));
const create = async () =>
  (
    await call(
      alice,
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles: ['auditor'], requestReason: 'bench' },
      }),
    )
  ).metadata.name;
const approve = (id) =>
  call(admin, 'setAccessRequestState', {
    id,
    state: RequestState.APPROVED,
    reason: 'bench',
    annotations: undefined,
    delegator: '',
    roles: [],
    assumeStartTime: undefined,
  });

try {
  // Warm-up: the bridge is live once the first approval arrives.
  const warm = await create();
  await approve(warm);
  await arrival(`${warm}/APPROVED`);

  const lat = [];
  for (let i = 0; i < SAMPLES; i++) {
    const id = await create();
    const t0 = performance.now();
    await approve(id);
    lat.push((await arrival(`${id}/APPROVED`)) - t0);
  }
  lat.sort((a, b) => a - b);
  console.log(
    `webhook latency (approval → POST received, ${SAMPLES} samples): p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms`,
  );

  const ids = [];
  for (let i = 0; i < BURST; i++) ids.push(await create());
  const t0 = performance.now();
  await Promise.all(ids.map(approve));
  const last = Math.max(...(await Promise.all(ids.map((id) => arrival(`${id}/APPROVED`)))));
  const seconds = (last - t0) / 1000;
  console.log(
    `webhook throughput (one bridge, ${BURST} approvals): ${(BURST / seconds).toFixed(0)} events/s`,
  );
} finally {
  stop.abort();
  await running;
  bridge.close();
  conn.close();
  alice.close();
  admin.close();
  receiver.closeAllConnections();
  receiver.close();
  await server.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
}
