/**
 * Issue 22, finding 1: hostile webhook receivers. Each row is a receiver that misbehaves on
 * its first answers (an answer cut short, a trickle, a reset, a 500, no answer at all) and
 * then recovers: the event that met the misbehaviour and the one queued behind it both
 * arrive, in order, and the failure is logged with the receiver and the event. Before the
 * fix, the cut-short and trickling answers left the queue waiting forever.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, connect } from '../../src/client/connect.js';
import { createRequest } from '../../src/client/requests.js';
import { readIdentityFile } from '../../src/identity/identity-file.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { WebhookBridge } from '../../src/webhook/bridge.js';
import { parseWebhookConfig } from '../../src/webhook/config.js';

type Behaviour = 'ok' | 'partial' | 'trickle' | 'reset' | 'status500' | 'silent';

const DEADLINE_MS = 400;

/** A plain-HTTP loopback receiver whose behaviour the test switches. */
async function hostileReceiver() {
  let behaviour: Behaviour = 'ok';
  const attempts = new Map<string, number>();
  const accepted: string[] = [];
  const listeners = new Set<() => void>();
  const held: http.ServerResponse[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
      attempts.set(body.id, (attempts.get(body.id) ?? 0) + 1);
      const mode = behaviour;
      for (const l of listeners) l();
      switch (mode) {
        case 'ok':
          accepted.push(body.id);
          for (const l of listeners) l();
          res.writeHead(200, { 'content-length': 2 }).end('ok');
          return;
        case 'partial':
          // 200 and a length of 100, 7 bytes, then the connection drops.
          res.writeHead(200, { 'content-length': 100 });
          res.write('partial', () => res.socket?.destroy());
          return;
        case 'trickle': {
          res.writeHead(200, { 'content-length': 100 });
          const t = setInterval(() => res.write('.'), DEADLINE_MS / 8);
          timers.add(t);
          res.on('close', () => clearInterval(t));
          return;
        }
        case 'reset':
          req.socket.resetAndDestroy();
          return;
        case 'status500':
          res.writeHead(500).end();
          return;
        case 'silent':
          held.push(res);
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const until = (pred: () => boolean, what: string, ms = 15_000) =>
    new Promise<void>((resolve, reject) => {
      if (pred()) return resolve();
      const check = () => {
        if (!pred()) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${what} within ${ms} ms; accepted ${JSON.stringify(accepted)}`));
      }, ms);
      listeners.add(check);
    });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    attempts,
    accepted,
    set: (b: Behaviour) => {
      behaviour = b;
    },
    until,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let dir: string;
let server: RunningServer;
let bridgeConn: Connection;
let alice: Connection;
let receiver: Awaited<ReturnType<typeof hostileReceiver>>;
let bridge: WebhookBridge;
let running: Promise<void>;
const stop = new AbortController();
const lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-webhook-peers-'));
  server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  receiver = await hostileReceiver();
  const config = await parseWebhookConfig(
    `[webhook]
webhook_url = "${receiver.url}"
notify_only = true
callback_secret = "peers"
state_file = "${join(dir, 'state.json')}"
`,
    'peers.toml',
  );
  bridgeConn = await connect({
    credentials: await readIdentityFile(server.identityPath('admin')),
    authServer: server.addr,
  });
  alice = await connect({
    credentials: await readIdentityFile(server.identityPath('alice')),
    authServer: server.addr,
  });
  bridge = await WebhookBridge.create({
    config,
    conn: bridgeConn,
    secret: Buffer.from('peers'),
    cluster: 'local',
    log: (level, line) => lines.push(`${level} ${line}`),
    signal: stop.signal,
    retryMinMs: 50,
    retryMaxMs: 400,
    deliveryTimeoutMs: DEADLINE_MS,
  });
  running = bridge.run();
});

afterAll(async () => {
  stop.abort();
  await running;
  bridge.close();
  bridgeConn.close();
  alice.close();
  await receiver.close();
  await server.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
});

const create = async () =>
  (
    await createRequest(
      alice,
      { roles: ['auditor'], resources: [], reason: 'peers', reviewers: [], dryRun: false },
      { now: new Date() },
    )
  ).id;

describe('a receiver that misbehaves, then recovers', () => {
  it.each<[Behaviour, RegExp]>([
    ['partial', /HTTP 200 answer cut short/],
    ['trickle', /no complete answer within 0\.4s/],
    ['reset', /ECONNRESET|socket hang up|closed before an answer/],
    ['status500', /receiver answered HTTP 500/],
    ['silent', /no complete answer within 0\.4s/],
  ])(
    '%s: both queued events arrive in order once it recovers, and the failure is logged',
    async (mode, reason) => {
      receiver.set(mode);
      const first = await create();
      const second = await create();
      await receiver.until(() => (receiver.attempts.get(first) ?? 0) >= 2, `two attempts of ${first}`);
      receiver.set('ok');
      await receiver.until(
        () => receiver.accepted.includes(first) && receiver.accepted.includes(second),
        `${first} and ${second} accepted after recovery`,
      );
      expect(receiver.accepted.indexOf(first)).toBeLessThan(receiver.accepted.indexOf(second));
      const failed = lines.find((l) => l.includes(`delivery of ${first}:`) && l.includes('(attempt 1)'));
      expect(failed, lines.join('\n')).toMatch(
        /^warn webhook: delivery of \S+ to http:\/\/127\.0\.0\.1:\d+\/hook failed/,
      );
      expect(failed).toMatch(reason);
      expect(lines.some((l) => l.startsWith(`info webhook: delivered ${first}:`))).toBe(true);
    },
  );
});
