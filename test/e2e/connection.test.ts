import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatIdentityFile, parseIdentityFile } from '../../src/identity/identity-file.js';
import { generateKey } from '../../src/identity/keys.js';
import { issueCertificate } from '../../src/identity/x509.js';
import { access, runAccess, startTestServer, type TestServer } from '../helpers/e2e.js';

let server: TestServer;
let other: TestServer;

beforeAll(async () => {
  [server, other] = await Promise.all([startTestServer(), startTestServer()]);
});

afterAll(async () => {
  await Promise.all([server?.close(), other?.close()]);
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function expectOneLineError(stderr: string, fragment: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(fragment);
  expect(lines.slice(1).every((l) => l.startsWith('hint: '))).toBe(true);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('connection and credential failures: one line and the documented exit code', () => {
  test('unreachable address → 8', async () => {
    const env = { ...server.env('alice'), ACCESS_AUTH_SERVER: `127.0.0.1:${await closedPort()}` };
    // The spawned bundle once, for the exit code of a real process; the rest run in-process.
    const r = await runAccess(['request', 'ls'], env);
    expect(r.code).toBe(8);
    expectOneLineError(r.stderr, /cannot reach the Auth Service at 127\.0\.0\.1:\d+: connection refused/);
  });

  test('a server whose CA the identity does not trust → 8', async () => {
    const env = { ...server.env('alice'), ACCESS_AUTH_SERVER: other.addr };
    const r = await access(['request', 'ls'], env);
    expect(r.code).toBe(8);
    expectOneLineError(r.stderr, /TLS handshake failed: server certificate is not signed by a trusted CA/);
  });

  test('an identity file without its private key → 7, and no connection attempt', async () => {
    const text = await readFile(server.identity('alice'), 'utf8');
    const path = join(server.dir, 'alice-nokey.pem');
    await writeFile(
      path,
      text.replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----\n/, ''),
      {
        mode: 0o600,
      },
    );
    const r = await access(['request', 'ls'], { ...server.env('alice'), ACCESS_IDENTITY: path });
    expect(r.code).toBe(7);
    expectOneLineError(r.stderr, /no private key found/);
  });

  test('an expired certificate → 7, checked before connecting', async () => {
    const creds = parseIdentityFile(await readFile(server.identity('alice'), 'utf8'), 'alice.pem');
    const ca = {
      certPem: await readFile(join(server.server.dataDir, 'ca', 'user.crt'), 'utf8'),
      keyPem: await readFile(join(server.server.dataDir, 'ca', 'user.key'), 'utf8'),
    };
    const key = await generateKey('ecdsa-p256');
    const now = new Date();
    const certPem = await issueCertificate({
      ca,
      publicKeyPem: key.publicKeyPem,
      identity: {
        username: 'alice',
        roles: ['requester'],
        traits: {},
        activeRequests: [],
        allowedResourceIds: [],
      },
      notAfter: new Date(now.getTime() - 60_000),
      now: new Date(now.getTime() - 3_600_000),
    });
    const path = join(server.dir, 'alice-expired.pem');
    await writeFile(path, formatIdentityFile({ keyPem: key.privateKeyPem, certPem, caPems: creds.caPems }), {
      mode: 0o600,
    });
    const r = await access(['request', 'ls'], { ...server.env('alice'), ACCESS_IDENTITY: path });
    expect(r.code).toBe(7);
    expectOneLineError(r.stderr, /certificate for "alice" expired at/);
  });

  test('a stack trace only with --debug', async () => {
    const env = { ...server.env('alice'), ACCESS_AUTH_SERVER: `127.0.0.1:${await closedPort()}` };
    const r = await access(['--debug', 'request', 'ls'], env);
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});
