/**
 * `access webhook serve` end to end, in-process: signed and routed POSTs to real local HTTPS
 * receivers, callbacks refused for every kind of bad input (nothing changes), and an
 * approving callback that ends a waiting `create`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { signature } from '../../src/webhook/sign.js';
import { fakeIO } from '../helpers/run-cli.js';
import { localTls, type Receiver, startReceiver, type Tls, writeBridgeConfig } from './helpers.js';

const SECRET = 'test-signing-secret';
let dir: string;
let server: RunningServer;
let tls: Tls;
let fallback: Receiver;
let oncall: Receiver;
let callbackPort: number;
const stopBridge = new AbortController();
let bridgeDone: Promise<number>;
let bridgeIo: ReturnType<typeof fakeIO>;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function access(user: string, args: string[], signal?: AbortSignal) {
  const io = fakeIO({
    env: { ACCESS_AUTH_SERVER: server.addr, ACCESS_IDENTITY: server.identityPath(user), HOME: dir },
    signal,
  });
  const code = await main(args, io);
  return { code, out: io.out.text, err: io.err.text };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-webhook-'));
  server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  tls = await localTls();
  fallback = await startReceiver(tls, Buffer.from(SECRET));
  oncall = await startReceiver(tls, Buffer.from(SECRET), '/oncall');
  callbackPort = await freePort();
  const config = await writeBridgeConfig(dir, {
    identity: server.identityPath('admin'),
    authServer: server.addr,
    tls,
    secret: SECRET,
    url: fallback.url,
    endpoints: { oncall: oncall.url },
    basicAuth: { user: 'hook', password: 's3cret' },
    callbackPort,
  });
  bridgeIo = fakeIO({ signal: stopBridge.signal, env: { HOME: dir } });
  bridgeDone = main(['webhook', 'serve', '--config', config], bridgeIo);
  // The bridge is live once it has caught up: a request created now must reach a receiver.
});

afterAll(async () => {
  stopBridge.abort();
  await bridgeDone;
  await fallback.close();
  await oncall.close();
  await server.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
});

function callback(body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `https://127.0.0.1:${callbackPort}/`,
      { method: 'POST', ca: tls.caPem, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const BASIC = `Basic ${Buffer.from('hook:s3cret').toString('base64')}`;
const now = () => Math.floor(Date.now() / 1000);
const signed = (body: string, t = now()) => ({
  authorization: BASIC,
  'x-access-signature': signature(Buffer.from(SECRET), body, t),
});

async function pendingRequest(roles: string): Promise<string> {
  const made = await access('alice', [
    'request',
    'create',
    '--roles',
    roles,
    '--reason',
    'hook',
    '--nowait',
    '-f',
    'json',
  ]);
  expect(made.code, made.err).toBe(0);
  return JSON.parse(made.out).id;
}

async function stateOf(id: string): Promise<string> {
  return JSON.parse((await access('admin', ['request', 'show', id, '-f', 'json'])).out).state;
}

describe('webhook bridge', () => {
  it('posts signed events, routed by access_monitoring_rules, else to webhook_url', async () => {
    const auditor = await pendingRequest('auditor');
    const a = await fallback.waitFor((r) => r.body.id === auditor);
    // A rule created while the bridge runs applies at once (the bridge watches rules).
    const rules = join(dir, 'rules.yaml');
    await writeFile(
      rules,
      `kind: access_monitoring_rule
version: v1
metadata: { name: dba-to-oncall }
spec:
    subjects: [access_request]
    condition: access_request.spec.roles.contains("dba")
    notification: { name: webhook, recipients: [oncall] }
`,
    );
    expect((await access('admin', ['rule', 'create', '-f', rules])).code).toBe(0);

    expect(a.signed).toBe(true);
    expect(a.body).toMatchObject({
      type: 'put',
      cluster: 'local',
      request: { state: 'PENDING', user: 'alice' },
    });
    expect(a.body.event_id).toMatch(new RegExp(`^${auditor}:\\d+$`));

    const dba = await pendingRequest('dba');
    const b = await oncall.waitFor((r) => r.body.id === dba);
    expect(b.path).toBe('/oncall');
    expect(b.signed).toBe(true);
    expect(fallback.got.some((r) => r.body.id === dba)).toBe(false);
  });

  it("routes on the requester's traits, read as Teleport's plugins read them (issue 23)", async () => {
    const rules = join(dir, 'traits.yaml');
    await writeFile(
      rules,
      `kind: access_monitoring_rule
version: v1
metadata: { name: dev-team-by-traits }
spec:
    subjects: [access_request]
    condition: user.traits["team"].contains("dev")
    notification: { name: webhook, recipients: [oncall] }
`,
    );
    expect((await access('admin', ['rule', 'create', '-f', rules])).code).toBe(0);
    // alice's traits say team: dev; her auditor request matches no other rule.
    const id = await pendingRequest('auditor');
    await oncall.waitFor((r) => r.body.id === id);
    expect(fallback.got.some((r) => r.body.id === id)).toBe(false);
    expect(bridgeIo.err.text).not.toContain('cannot read user traits');
    expect((await access('admin', ['rule', 'rm', 'dev-team-by-traits'])).code).toBe(0);
  });

  it('a failing receiver is retried and holds up nobody else', async () => {
    oncall.failWith = 503;
    const dba = await pendingRequest('dba');
    const auditor = await pendingRequest('auditor');
    await fallback.waitFor((r) => r.body.id === auditor);
    expect(oncall.got.some((r) => r.body.id === dba)).toBe(false);
    oncall.failWith = undefined;
    await oncall.waitFor((r) => r.body.id === dba);
    expect(bridgeIo.err.text).toMatch(
      new RegExp(
        `delivery of ${dba}:\\d+ to ${oncall.url} failed \\(attempt 1\\): receiver answered HTTP 503`,
      ),
    );
  });

  it('refuses bad callbacks with a 4xx JSON error and changes nothing', async () => {
    const id = await pendingRequest('auditor');
    // Announced before the next test looks for the first PENDING request it has not seen.
    await fallback.waitFor((r) => r.body.id === id);
    const body = JSON.stringify({ payload: { ReqID: id, State: 'Approved', Delegator: 'ops' } });
    const cases: [string, Promise<{ status: number; body: string }>, number, string][] = [
      [
        'bad signature',
        callback(body, {
          authorization: BASIC,
          'x-access-signature': signature(Buffer.from('wrong'), body, now()),
        }),
        401,
        'bad signature',
      ],
      [
        'bad basic auth',
        callback(body, {
          ...signed(body),
          authorization: `Basic ${Buffer.from('hook:nope').toString('base64')}`,
        }),
        401,
        'bad basic auth credentials',
      ],
      [
        'stale timestamp',
        callback(body, signed(body, now() - 3600)),
        401,
        'signature timestamp outside the allowed window',
      ],
      [
        'unknown request',
        callback(
          body.replace(id, '00000000-0000-4000-8000-000000000000'),
          signed(body.replace(id, '00000000-0000-4000-8000-000000000000')),
        ),
        404,
        'not found',
      ],
      ['bad JSON', callback('{"payload":', signed('{"payload":')), 400, 'body is not JSON'],
      [
        'bad state',
        callback(body.replace('Approved', 'Pending'), signed(body.replace('Approved', 'Pending'))),
        400,
        'payload.State must be "Approved" or "Denied"',
      ],
    ];
    for (const [what, p, status, message] of cases) {
      const res = await p;
      expect(res.status, what).toBe(status);
      expect(JSON.parse(res.body).error, what).toContain(message);
    }
    expect(await stateOf(id)).toBe('PENDING');
    // A good callback used twice: the second is a replay.
    const headers = signed(body);
    expect((await callback(body, headers)).status).toBe(200);
    const replay = await callback(body, headers);
    expect(replay.status).toBe(401);
    expect(JSON.parse(replay.body).error).toContain('replayed');
  });

  it('an approving callback reviews the request and ends a waiting create', async () => {
    const known = new Set(fallback.got.map((r) => r.body.id));
    const waiting = access('alice', [
      'request',
      'create',
      '--roles',
      'auditor',
      '--reason',
      'cb',
      '--no-assume',
      '--timeout',
      '20s',
      '-f',
      'json',
    ]);
    // The bridge announces the new request; the receiver answers through the callback.
    const announced = await fallback.waitFor(
      (r) => r.body.request?.state === 'PENDING' && !known.has(r.body.id),
    );
    const id = announced.body.id;
    const body = JSON.stringify({
      payload: { ReqID: id, State: 'Approved', Delegator: 'ops', Reason: 'ok by ops' },
    });
    const res = await callback(body, signed(body));
    expect(res.status, res.body).toBe(200);
    const done = await waiting;
    expect(done.code, done.err).toBe(0);
    const final = JSON.parse(done.out);
    expect(final.state).toBe('APPROVED');
    expect(final.reviews.map((r: { author: string; reason: string }) => [r.author, r.reason])).toEqual([
      ['admin', 'ok by ops'],
    ]);
  });
});
