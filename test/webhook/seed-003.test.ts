/**
 * Issue 20 item 4 and issue 23 item 5: the teleport-webhooks configuration as the plugin
 * documents it (no signing key, callbacks on), run with the plugin identity of the demo seed
 * (`sign-helper --user access-plugin`). Serve starts, generates a signing secret beside its
 * state file, delivers a signed POST for a new request, keeps the secret across restarts, and
 * picks the callback mode the identity may use, saying why. In-process and through the bin.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { DEMO_SEED_YAML } from '../../src/server/demo-seed.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { signature } from '../../src/webhook/sign.js';
import { killSpawned, spawnCli } from '../helpers/e2e.js';
import { fakeIO } from '../helpers/run-cli.js';
import { localTls, type Tls } from './helpers.js';

/**
 * The plugin's example configuration (teleport-plugins access/webhooks/README.md at
 * d520c686^), unchanged but for its addresses and file paths, which name this test's server,
 * receiver and files; its commented-out listen_addr is given a free loopback port.
 */
const SEED_003_TOML = `# example webhooks plugin configuration TOML file
[teleport]
auth_server = "example.com:3025"                        # Teleport Auth Server GRPC API address
client_key = "/var/lib/teleport/plugins/webhooks/auth.key" # Teleport GRPC client secret key
client_crt = "/var/lib/teleport/plugins/webhooks/auth.crt" # Teleport GRPC client certificate
root_cas = "/var/lib/teleport/plugins/webhooks/auth.cas"   # Teleport cluster CA certs

[webhook]
webhook_url = "https://mywebhook.com/ppst" # Receiver webhook URL
notify_only = false # Allow Approval / Denial actions via the Callbacks
request_states = { "Pending" = true, "Approved" = false, "Denied" = false } # What request statuses to notify about?

[http]
public_addr = "example.com" # URL on which callback server is accessible externally, e.g. [https://]teleport-proxy.example.com
# listen_addr = ":8081" # Network address in format [addr]:port on which callback server listens, e.g. 0.0.0.0:8081
https_key_file = "/var/lib/teleport/webproxy_key.pem"  # TLS private key
https_cert_file = "/var/lib/teleport/webproxy_cert.pem" # TLS certificate

[log]
output = "stderr" # Logger output. Could be "stdout", "stderr" or "/var/lib/teleport/slack.log"
severity = "INFO" # Logger severity. Could be "INFO", "ERROR", "DEBUG" or "WARN".
`;

interface Post {
  body: string;
  sig: string;
  id: string;
}

let dir: string;
let server: RunningServer;
let tls: Tls;
const posts: Post[] = [];
const arrived = new Set<() => void>();
let receiver: http.Server;
let receiverUrl: string;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function postFor(id: string, ms = 15_000): Promise<Post> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const hit = posts.find((p) => p.id === id);
      if (!hit) return false;
      arrived.delete(check);
      clearTimeout(timer);
      resolve(hit);
      return true;
    };
    const timer = setTimeout(() => {
      arrived.delete(check);
      reject(new Error(`no POST for ${id} within ${ms} ms; got ${posts.map((p) => p.id).join(', ')}`));
    }, ms);
    if (!check()) arrived.add(check);
  });
}

async function access(user: string, args: string[]) {
  const io = fakeIO({
    env: { ACCESS_AUTH_SERVER: server.addr, ACCESS_IDENTITY: server.identityPath(user), HOME: dir },
  });
  const code = await main(args, io);
  return { code, out: io.out.text, err: io.err.text };
}

async function newRequest(): Promise<string> {
  const made = await access('alice', [
    'request',
    'create',
    '--roles',
    'auditor',
    '--reason',
    'seed 003',
    '--nowait',
    '-f',
    'json',
  ]);
  expect(made.code, made.err).toBe(0);
  return JSON.parse(made.out).id;
}

/** Seed 003's TOML with this test's addresses and paths, in its own directory. */
async function seedConfig(
  name: string,
  extra: (toml: string) => string = (t) => t,
): Promise<{ path: string; dir: string }> {
  const home = await mkdtemp(join(dir, `${name}-`));
  const port = await freePort();
  const toml = extra(
    SEED_003_TOML.replace('"example.com:3025"', `"${server.addr}"`)
      .replaceAll('/var/lib/teleport/plugins/webhooks/auth.', `${join(dir, 'auth')}.`)
      .replace('"https://mywebhook.com/ppst"', `"${receiverUrl}"`)
      .replace('# listen_addr = ":8081"', `listen_addr = "127.0.0.1:${port}"`)
      .replace('/var/lib/teleport/webproxy_key.pem', join(dir, 'server.key'))
      .replace('/var/lib/teleport/webproxy_cert.pem', join(dir, 'server.crt')),
  );
  const path = join(home, 'teleport-webhooks.toml');
  await writeFile(path, toml);
  return { path, dir: home };
}

/** Runs serve in-process until `body` is done; returns its exit code and stderr. */
async function serving(config: string, body: (stderr: () => string) => Promise<void>) {
  const stop = new AbortController();
  const io = fakeIO({ signal: stop.signal, env: { HOME: dir } });
  const done = main(['webhook', 'serve', '--config', config], io);
  try {
    await body(() => io.err.text);
  } finally {
    stop.abort();
  }
  return { code: await done, err: io.err.text };
}

const verifies = (secret: string, p: Post) => {
  const t = Number(/^t=(\d+),/.exec(p.sig)?.[1]);
  return p.sig === signature(Buffer.from(secret), p.body, t);
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-seed-003-'));
  server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  tls = await localTls();
  await writeFile(join(dir, 'server.crt'), tls.certPem);
  await writeFile(join(dir, 'server.key'), tls.keyPem, { mode: 0o600 });
  const signed = await access('admin', [
    'sign-helper',
    '--user',
    'access-plugin',
    '--out',
    join(dir, 'auth'),
    '--ttl',
    '1h',
  ]);
  expect(signed.code, signed.err).toBe(0);
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      posts.push({ body, sig: String(req.headers['x-access-signature']), id: JSON.parse(body).id });
      for (const check of [...arrived]) check();
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ppst`;
});

afterAll(async () => {
  killSpawned();
  receiver.closeAllConnections();
  receiver.close();
  await server.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
});

describe('seed 003: the teleport-webhooks TOML as documented, with the plugin identity', () => {
  it('starts, generates a 0600 signing secret beside the state file, signs with it, and keeps it', async () => {
    const config = await seedConfig('inproc');
    const secretPath = join(config.dir, 'access-webhook-signing.key');
    let first = '';
    const run1 = await serving(config.path, async (stderr) => {
      const id = await newRequest();
      const post = await postFor(id);
      first = (await readFile(secretPath, 'utf8')).trim();
      expect(first).toMatch(/^[0-9a-f]{64}$/);
      expect(verifies(first, post), 'signed with the generated secret').toBe(true);
      expect(stderr()).toContain(`generated one in ${secretPath} (mode 0600`);
      // A receiver's check, as the start-up line describes it.
      const t = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(post.sig)!;
      expect(createHmac('sha256', first).update(`${t[1]}.${post.body}`).digest('hex')).toBe(t[2]);
    });
    expect(run1.code, run1.err).toBe(0);
    expect((await stat(secretPath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(config.dir, 'access-webhook-state.json'))).isFile()).toBe(true);

    const run2 = await serving(config.path, async (stderr) => {
      const id = await newRequest();
      expect(verifies(first, await postFor(id)), 'the same secret after a restart').toBe(true);
      expect(stderr()).toContain(`signing with the secret generated earlier in ${secretPath}`);
    });
    expect(run2.code, run2.err).toBe(0);
    expect((await readFile(secretPath, 'utf8')).trim()).toBe(first);
  });

  it('a configured signing_secret_file still wins', async () => {
    const own = join(dir, 'own.key');
    await writeFile(own, 'my own secret\n', { mode: 0o600 });
    const config = await seedConfig('own', (t) =>
      t.replace('[webhook]\n', `[webhook]\nsigning_secret_file = "${own}"\n`),
    );
    const run = await serving(config.path, async () => {
      expect(verifies('my own secret', await postFor(await newRequest()))).toBe(true);
    });
    expect(run.code, run.err).toBe(0);
    await expect(stat(join(config.dir, 'access-webhook-signing.key'))).rejects.toThrow(/ENOENT/);
  });

  it('the plugin role may not review: callbacks set the state, as teleport-webhooks did, and say so', async () => {
    const config = await seedConfig('mode');
    const port = Number(/listen_addr = "127\.0\.0\.1:(\d+)"/.exec(await readFile(config.path, 'utf8'))![1]);
    const run = await serving(config.path, async (stderr) => {
      const id = await newRequest();
      await postFor(id);
      const secret = (await readFile(join(config.dir, 'access-webhook-signing.key'), 'utf8')).trim();
      const body = JSON.stringify({
        payload: { ReqID: id, State: 'Approved', Delegator: 'ops', Reason: 'ok' },
      });
      const status = await new Promise<number>((resolve, reject) => {
        const req = https.request(
          `https://127.0.0.1:${port}/`,
          {
            method: 'POST',
            ca: tls.caPem,
            headers: {
              'x-access-signature': signature(Buffer.from(secret), body, Math.floor(Date.now() / 1000)),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      expect(status, stderr()).toBe(200);
      const shown = JSON.parse((await access('admin', ['request', 'show', id, '-f', 'json'])).out);
      expect(shown.state).toBe('APPROVED');
      expect(stderr()).toMatch(
        /WARN webhook: callbacks set the state directly, as teleport-webhooks did \(thresholds do not apply\): user "access-plugin" cannot submit reviews \(none of its roles allows review_requests\)/,
      );
      // The plugin role reads rules, as Teleport's preset access-plugin role does.
      expect(stderr()).not.toContain('cannot read access_monitoring_rules');
    });
    expect(run.code, run.err).toBe(0);
  });

  it('callback_sets_state = false with an identity that may not review: refused at start, saying why', async () => {
    const config = await seedConfig('refuse', (t) =>
      t.replace('[webhook]\n', '[webhook]\ncallback_sets_state = false\n'),
    );
    const io = fakeIO({ env: { HOME: dir } });
    const code = await main(['webhook', 'serve', '--config', config.path], io);
    expect(code).toBe(7);
    expect(io.err.text).toContain(
      'error: callback_sets_state = false, but user "access-plugin" cannot submit reviews (none of its roles allows review_requests)',
    );
  });

  it('an identity that may not read users: the rules that need traits are named once at start', async () => {
    // The demo seed with a plugin role that reads rules but not users.
    const narrowed = DEMO_SEED_YAML.replace(
      '      - resources: [access_monitoring_rule]\n        verbs: [list, read]\n      - resources: [user]\n        verbs: [read]\n',
      '      - resources: [access_monitoring_rule]\n        verbs: [list, read]\n',
    );
    expect(narrowed).not.toBe(DEMO_SEED_YAML);
    const seedFile = join(dir, 'narrow-seed.yaml');
    await writeFile(seedFile, narrowed);
    const other = await startServer({ dataDir: join(dir, 'narrow'), listen: '127.0.0.1:0', seedFile });
    const before = server;
    server = other;
    try {
      const rule = join(dir, 'dba-to-oncall.yaml');
      await writeFile(
        rule,
        `kind: access_monitoring_rule
version: v1
metadata: { name: dba-to-oncall }
spec:
    subjects: [access_request]
    condition: access_request.spec.roles.contains("dba") && user.traits["team"].contains("dba")
    notification: { name: webhook, recipients: ["${receiverUrl}"] }
`,
      );
      expect((await access('admin', ['rule', 'create', '-f', rule])).code).toBe(0);
      const signed = await access('admin', [
        'sign-helper',
        '--user',
        'access-plugin',
        '--out',
        join(dir, 'auth'),
        '--ttl',
        '1h',
        '--overwrite',
      ]);
      expect(signed.code, signed.err).toBe(0);
      const config = await seedConfig('traits');
      const run = await serving(config.path, async (stderr) => {
        await postFor(await newRequest());
        const named = stderr()
          .split('\n')
          .filter((l) => l.includes('user traits'));
        expect(named).toEqual([
          expect.stringContaining(
            'WARN webhook: cannot read user traits (access denied to perform action "read" on "user"); rules that depend on user.traits see none and never match on them: "dba-to-oncall"',
          ),
        ]);
      });
      expect(run.code, run.err).toBe(0);
    } finally {
      server = before;
      await other.stop({ graceMs: 500 });
      const restored = await access('admin', [
        'sign-helper',
        '--user',
        'access-plugin',
        '--out',
        join(dir, 'auth'),
        '--ttl',
        '1h',
        '--overwrite',
      ]);
      expect(restored.code, restored.err).toBe(0);
    }
  });

  it('through the built bin: starts, delivers signed, and a restart keeps the secret', async () => {
    const config = await seedConfig('bin');
    const secretPath = join(config.dir, 'access-webhook-signing.key');
    const env = { PATH: process.env.PATH ?? '', HOME: dir };
    let b = spawnCli(['webhook', 'serve', '--config', config.path], env);
    await b.waitForStderr(/watching access requests of cluster local/);
    const first = await postFor(await newRequest());
    const secret = (await readFile(secretPath, 'utf8')).trim();
    expect(verifies(secret, first)).toBe(true);
    b.child.kill('SIGTERM');
    expect((await b.exited(10_000)).code).toBe(0);

    b = spawnCli(['webhook', 'serve', '--config', config.path], env);
    await b.waitForStderr(/signing with the secret generated earlier/);
    expect(verifies(secret, await postFor(await newRequest()))).toBe(true);
    b.child.kill('SIGTERM');
    expect((await b.exited(10_000)).code).toBe(0);
    expect((await readFile(secretPath, 'utf8')).trim()).toBe(secret);
  });
});
