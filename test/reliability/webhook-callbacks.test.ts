/**
 * Issue 22, finding 2: hostile callers of the callback server and unsafe configurations.
 * Another spelling of a used signature is not a new signature (the header has one grammar and
 * used signatures are remembered by their parsed `(t, v1)`); `callback_window` must be finite;
 * a signing secret or key file open to group or others is refused, as ssh refuses such a key.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { signature } from '../../src/webhook/sign.js';
import { fakeIO } from '../helpers/run-cli.js';
import { localTls, type Receiver, startReceiver, type Tls, writeBridgeConfig } from '../webhook/helpers.js';

const SECRET = 'callbacks-secret';
let dir: string;
let server: RunningServer;
let tls: Tls;
let receiver: Receiver;
let callbackPort: number;
let config: string;
const stopBridge = new AbortController();
let bridgeDone: Promise<number>;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function access(user: string, args: string[]) {
  const io = fakeIO({
    env: { ACCESS_AUTH_SERVER: server.addr, ACCESS_IDENTITY: server.identityPath(user), HOME: dir },
  });
  const code = await main(args, io);
  return { code, out: io.out.text, err: io.err.text };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-webhook-callbacks-'));
  server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  tls = await localTls();
  receiver = await startReceiver(tls, Buffer.from(SECRET));
  callbackPort = await freePort();
  config = await writeBridgeConfig(dir, {
    identity: server.identityPath('admin'),
    authServer: server.addr,
    tls,
    secret: SECRET,
    url: receiver.url,
    callbackPort,
  });
  const io = fakeIO({ signal: stopBridge.signal, env: { HOME: dir } });
  bridgeDone = main(['webhook', 'serve', '--config', config], io);
});

afterAll(async () => {
  stopBridge.abort();
  await bridgeDone;
  await receiver.close();
  await server.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
});

function callback(body: string, sig: string | string[]): Promise<{ status: number; error: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `https://127.0.0.1:${callbackPort}/`,
      {
        method: 'POST',
        ca: tls.caPem,
        headers: { 'content-type': 'application/json', 'x-access-signature': sig },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            error: JSON.parse(Buffer.concat(chunks).toString('utf8')).error ?? '',
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function pending(): Promise<string> {
  const made = await access('alice', [
    'request',
    'create',
    '--roles',
    'auditor',
    '--reason',
    'cb',
    '--nowait',
    '-f',
    'json',
  ]);
  expect(made.code, made.err).toBe(0);
  const id = JSON.parse(made.out).id as string;
  // The bridge is up once it has announced the request.
  await receiver.waitFor((r) => r.body.id === id);
  return id;
}

const stateOf = async (id: string) =>
  JSON.parse((await access('admin', ['request', 'show', id, '-f', 'json'])).out).state;

describe('callback signatures', () => {
  it('another spelling of a used signature is refused, not taken for a new one', async () => {
    const id = await pending();
    const body = JSON.stringify({ payload: { ReqID: id, State: 'Denied', Delegator: 'ops' } });
    const t = Math.floor(Date.now() / 1000);
    const canonical = signature(Buffer.from(SECRET), body, t);
    const v1 = canonical.slice(canonical.indexOf('v1=') + 3);
    const variants: [string, string | string[]][] = [
      ['v1 first', `v1=${v1},t=${t}`],
      ['a space after the comma', `t=${t}, v1=${v1}`],
      ['a leading zero', `t=0${t},v1=${v1}`],
      ['a plus sign', `t=+${t},v1=${v1}`],
      ['a trailing field', `t=${t},v1=${v1},x=1`],
      ['v1 twice', `t=${t},v1=${v1},v1=${v1}`],
      ['uppercase hex', `t=${t},v1=${v1.toUpperCase()}`],
      ['a fraction', `t=${t}.0,v1=${v1}`],
      ['the header twice', [canonical, canonical]],
    ];
    // Fresh, each variant is malformed: only the one grammar is accepted.
    for (const [what, sig] of variants) {
      const res = await callback(body, sig);
      expect([res.status, res.error], what).toEqual([
        401,
        'malformed x-access-signature header (expected t=<unix seconds>,v1=<hex>)',
      ]);
    }
    expect(await stateOf(id)).toBe('PENDING');
    expect((await callback(body, canonical)).status).toBe(200);
    expect(await stateOf(id)).toBe('DENIED');
    const replay = await callback(body, canonical);
    expect([replay.status, replay.error]).toEqual([
      401,
      'replayed callback (this signature was already used)',
    ]);
    for (const [what, sig] of variants) expect((await callback(body, sig)).status, what).toBe(401);
  });

  it('a signature from 2001 is refused', async () => {
    const id = await pending();
    const body = JSON.stringify({ payload: { ReqID: id, State: 'Denied' } });
    const res = await callback(body, signature(Buffer.from(SECRET), body, 978_307_200));
    expect([res.status, res.error]).toEqual([401, 'signature timestamp outside the allowed window']);
    expect(await stateOf(id)).toBe('PENDING');
  });
});

describe('unsafe configurations are refused at start (exit 2), naming the file and the fix', () => {
  async function serveWith(toml: string): Promise<{ code: number; err: string }> {
    const path = join(dir, 'variant.toml');
    await writeFile(path, toml);
    const io = fakeIO({ env: { HOME: dir } });
    const code = await main(['webhook', 'serve', '--config', path], io);
    return { code, err: io.err.text };
  }

  it.each(['nan', 'inf', '-inf', '0'])('callback_window = %s', async (window) => {
    const toml = (await readFile(config, 'utf8')).replace(
      '[webhook]\n',
      `[webhook]\ncallback_window = ${window}\n`,
    );
    const r = await serveWith(toml);
    expect(r.code).toBe(2);
    expect(r.err).toContain('webhook.callback_window must be a number of seconds above 0 and at most 86400');
  });

  it.each([
    ['signing secret', 'signing.key', 0o644],
    ['signing secret', 'signing.key', 0o640],
    ['HTTPS key', 'server.key', 0o604],
  ])('a %s readable by group or others (%s)', async (what, file, mode) => {
    const path = join(dir, file);
    await chmod(path, mode);
    try {
      const r = await serveWith(await readFile(config, 'utf8'));
      expect(r.code).toBe(2);
      expect(r.err).toContain(
        `error: ${what} ${path} is open to group or others (mode 0${mode.toString(8)})`,
      );
      expect(r.err).toContain(`chmod 600 ${path}`);
    } finally {
      await chmod(path, 0o600);
    }
  });
});
