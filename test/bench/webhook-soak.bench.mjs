// Webhook bridge soak (issue 22; run after `npm run build`; `npm run bench` does both).
// One bridge, one loopback receiver, events created at a steady rate throughout. The receiver
// misbehaves in turn (an answer cut short, a trickle, a reset, HTTP 500, too slow to answer),
// each for PHASE_MS, then recovers. Prints events created, delivered (a complete 2xx answer),
// duplicated (answered 2xx more than once), lost (never answered 2xx), and how long after the
// recovery the last event arrived, against the bound the backoff allows. Asserts nothing.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectAccess } from '../../dist/client/connect.js';
import { AccessRequestV3 } from '../../dist/gen/teleport/legacy/types/types.js';
import { readIdentityFile } from '../../dist/identity/identity-file.js';
import { startServer } from '../../dist/server/index.js';
import { WebhookBridge } from '../../dist/webhook/bridge.js';
import { parseWebhookConfig } from '../../dist/webhook/config.js';
import { call, connect } from './lib.mjs';

const PHASES = ['partial', 'trickle', 'reset', 'status500', 'slow'];
const PHASE_MS = 3_000;
const CREATE_EVERY_MS = 10;
const DEADLINE_MS = 1_000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;
const DRAIN_LIMIT_MS = 120_000;

const dir = await mkdtemp(join(tmpdir(), 'access-bench-webhook-soak-'));
const server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });

let mode = 'ok';
/** Complete 2xx answers per request ID, and when the last one went out. */
const answered = new Map();
let lastAnswerAt = 0;
let recoveredAt = Number.POSITIVE_INFINITY;
let firstAnswerAfterRecovery = 0;
let attempts = 0;
const timers = new Set();
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    attempts++;
    const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    switch (mode) {
      case 'partial':
        res.writeHead(200, { 'content-length': 100 });
        res.write('partial', () => res.socket?.destroy());
        return;
      case 'trickle': {
        res.writeHead(200, { 'content-length': 100 });
        const t = setInterval(() => res.write('.'), 200);
        timers.add(t);
        res.on('close', () => {
          clearInterval(t);
          timers.delete(t);
        });
        return;
      }
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'status500':
        res.writeHead(500).end();
        return;
      case 'slow': {
        // Answers, but only after the bridge's deadline.
        const t = setTimeout(() => res.writeHead(200).end(), DEADLINE_MS * 2);
        timers.add(t);
        return;
      }
      default:
        res.writeHead(200, { 'content-length': 2 }).end('ok', () => {
          answered.set(id, (answered.get(id) ?? 0) + 1);
          lastAnswerAt = performance.now();
          if (!firstAnswerAfterRecovery && lastAnswerAt >= recoveredAt)
            firstAnswerAfterRecovery = lastAnswerAt;
        });
    }
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));

const config = await parseWebhookConfig(
  `[webhook]
webhook_url = "http://127.0.0.1:${receiver.address().port}/"
notify_only = true
callback_secret = "soak"
state_file = "${join(dir, 'state.json')}"
`,
  'soak.toml',
);
const conn = await connectAccess({
  credentials: await readIdentityFile(server.identityPath('admin')),
  authServer: server.addr,
});
const stop = new AbortController();
const bridge = await WebhookBridge.create({
  config,
  conn,
  secret: Buffer.from('soak'),
  cluster: 'local',
  log: () => {},
  signal: stop.signal,
  deliveryTimeoutMs: DEADLINE_MS,
  retryMinMs: RETRY_MIN_MS,
  retryMaxMs: RETRY_MAX_MS,
});
const running = bridge.run();
const alice = await connect(server.addr, server.identityPath('alice'));

const created = [];
let producing = true;
const producer = (async () => {
  while (producing) {
    const r = await call(
      alice,
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles: ['auditor'], requestReason: 'soak' },
      }),
    );
    created.push(r.metadata.name);
    await new Promise((res) => setTimeout(res, CREATE_EVERY_MS));
  }
})();
const wait = (ms) => new Promise((res) => setTimeout(res, ms));

try {
  await wait(1_000);
  for (const phase of PHASES) {
    mode = phase;
    await wait(PHASE_MS);
  }
  mode = 'ok';
  recoveredAt = performance.now();
  await wait(1_000);
  producing = false;
  await producer;
  const deadline = performance.now() + DRAIN_LIMIT_MS;
  while (created.some((id) => !answered.has(id)) && performance.now() < deadline) await wait(50);

  const delivered = created.filter((id) => answered.has(id)).length;
  const duplicated = [...answered.values()].reduce((n, c) => n + c - 1, 0);
  const lost = created.length - delivered;
  // After the recovery the head of the queue is retried within one backoff step (at most
  // RETRY_MAX_MS) plus a deadline for an exchange cut off at the switch; the backlog follows.
  const boundMs = RETRY_MAX_MS + DEADLINE_MS;
  console.log(
    `webhook soak (${PHASES.join(', ')}: ${PHASE_MS / 1000}s each; deadline ${DEADLINE_MS} ms, backoff ${RETRY_MIN_MS}–${RETRY_MAX_MS} ms): ` +
      `created ${created.length}, delivered ${delivered}, duplicated ${duplicated}, lost ${lost}; ` +
      `${attempts} attempts`,
  );
  const after = (t) => `${((t - recoveredAt) / 1000).toFixed(2)} s`;
  console.log(
    `webhook soak: after the recovery, first delivery ${after(firstAnswerAfterRecovery)} (bound ${(boundMs / 1000).toFixed(1)} s), ` +
      `whole backlog ${after(lastAnswerAt)}`,
  );
} finally {
  producing = false;
  stop.abort();
  await running;
  bridge.close();
  conn.close();
  alice.close();
  for (const t of timers) clearTimeout(t);
  receiver.closeAllConnections();
  receiver.close();
  await server.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
}
