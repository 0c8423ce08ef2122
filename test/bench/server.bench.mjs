import { randomUUID } from 'node:crypto';
// Embedded server benchmark (run after `npm run build`; `npm run bench` does both).
//  1. durable mutations/s: 16 concurrent clients creating, then reviewing, requests
//     (each reply comes after the change is fsynced);
//  2. watch latency: SetAccessRequestState → the PUT event on an open watch.
// Prints figures; asserts nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessRequestV3, AccessReview, RequestState } from '../../dist/gen/teleport/legacy/types/types.js';
import { startServer } from '../../dist/server/index.js';
import { call, connect, pct } from './lib.mjs';

const CLIENTS = 16;
const MAX_OPS = 2000;
const MAX_MS = 5000;
const LATENCY_SAMPLES = 200;

/** Runs `op(i)` from CLIENTS workers until MAX_OPS ops or MAX_MS elapse; returns ops/s. */
async function throughput(clients, op) {
  let next = 0;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      while (next < MAX_OPS && performance.now() - start < MAX_MS) {
        const i = next++;
        await op(client, i);
        done++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { done, seconds, perSecond: done / seconds };
}

const ms = (x) => `${x.toFixed(2)} ms`;

const dir = await mkdtemp(join(tmpdir(), 'access-bench-'));
const server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
try {
  const alices = await Promise.all(
    Array.from({ length: CLIENTS }, () => connect(server.addr, server.identityPath('alice'))),
  );
  const bobs = await Promise.all(
    Array.from({ length: CLIENTS }, () => connect(server.addr, server.identityPath('bob'))),
  );
  const admin = await connect(server.addr, server.identityPath('admin'));
  await Promise.all([...alices, ...bobs, admin].map((c) => call(c, 'ping', {})));

  const ids = [];
  const creates = await throughput(alices, async (c, i) => {
    const req = await call(
      c,
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles: ['auditor'], requestReason: `bench ${i}` },
      }),
    );
    ids.push(req.metadata.name);
  });
  console.log(
    `creates: ${creates.done} in ${creates.seconds.toFixed(2)} s with ${CLIENTS} clients = ${creates.perSecond.toFixed(0)} durable mutations/s`,
  );

  const reviews = await throughput(bobs, async (c, i) => {
    if (i >= ids.length) return;
    await call(c, 'submitAccessReview', {
      requestId: ids[i],
      review: AccessReview.fromPartial({ proposedState: RequestState.APPROVED, reason: 'bench' }),
    });
  });
  console.log(
    `reviews: ${Math.min(reviews.done, ids.length)} in ${reviews.seconds.toFixed(2)} s with ${CLIENTS} clients = ${reviews.perSecond.toFixed(0)} durable mutations/s`,
  );

  // Watch latency: one admin watch; each sample moves a fresh request to DENIED.
  const targets = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const req = await call(
      alices[i % CLIENTS],
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles: ['auditor'] },
      }),
    );
    targets.push(req.metadata.name);
  }
  const stream = admin.watchEvents({
    kinds: [
      {
        kind: 'access_request',
        loadSecrets: false,
        name: '',
        filter: { state: 'DENIED' },
        subKind: '',
        version: '',
      },
    ],
    allowPartialSuccess: false,
  });
  const waiting = new Map();
  let init;
  const ready = new Promise((r) => {
    init = r;
  });
  stream.on('data', (ev) => {
    const t = performance.now();
    if (ev.resource?.$case === 'watchStatus') return init();
    if (ev.resource?.$case !== 'accessRequest') return;
    waiting.get(ev.resource.value.metadata.name)?.(t);
  });
  stream.on('error', () => {});
  await ready;
  const fromReply = [];
  const fromSend = [];
  for (const id of targets) {
    const delivered = new Promise((r) => waiting.set(id, r));
    const sent = performance.now();
    await call(admin, 'setAccessRequestState', {
      id,
      state: RequestState.DENIED,
      delegator: '',
      reason: 'bench',
      annotations: undefined,
      roles: [],
      assumeStartTime: undefined,
    });
    const replied = performance.now();
    const got = await delivered;
    fromReply.push(got - replied);
    fromSend.push(got - sent);
  }
  stream.cancel();
  fromReply.sort((a, b) => a - b);
  fromSend.sort((a, b) => a - b);
  console.log(
    `watch latency over ${LATENCY_SAMPLES} state changes: reply→event p50 ${ms(pct(fromReply, 50))} p99 ${ms(pct(fromReply, 99))}` +
      ` (negative: the event arrived before the reply); send→event p50 ${ms(pct(fromSend, 50))} p99 ${ms(pct(fromSend, 99))}`,
  );
  for (const c of [...alices, ...bobs, admin]) c.close();
} finally {
  await server.stop({ graceMs: 1000 });
  await rm(dir, { recursive: true, force: true });
}
