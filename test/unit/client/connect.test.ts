import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertCertificateCurrent,
  clusterFromCredentials,
  connect,
  parseHostPort,
} from '../../../src/client/connect.js';
import { classifyConnectError, kindForCode, RpcError } from '../../../src/client/errors.js';
import { PingResponse } from '../../../src/gen/teleport/legacy/client/proto/authservice.js';
import { parseIdentity } from '../../../src/identity/index.js';
import { EXIT_CODES } from '../../../src/model/errors.js';
import { closedPort, makePki, startAuthServer, type TestServer, userCredentials } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pingServer(pki: Awaited<ReturnType<typeof makePki>>): Promise<TestServer> {
  const server = await startAuthServer(
    { ping: (_call, cb) => cb(null, PingResponse.fromPartial({ clusterName: pki.cluster })) },
    pki,
  );
  cleanups.push(() => server.close());
  return server;
}

describe('connect: reaching the Auth Service', () => {
  it('pings a server whose certificate chains to the trusted CA', async () => {
    const pki = await makePki();
    const server = await pingServer(pki);
    const conn = await connect({ authServer: server.address, credentials: await userCredentials(pki) });
    cleanups.push(() => conn.close());
    await expect(conn.auth.ping()).resolves.toMatchObject({ clusterName: 'local' });
    expect(conn.address).toBe(server.address);
    expect(conn.identity.username).toBe('alice');
  });

  it('reports connection refused as unavailable (exit 8), one line', async () => {
    const pki = await makePki();
    const port = await closedPort();
    const conn = await connect({ authServer: `127.0.0.1:${port}`, credentials: await userCredentials(pki) });
    cleanups.push(() => conn.close());
    const err = await conn.auth.ping().catch((e) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', kind: 'unavailable' });
    expect(err.message).toBe(`cannot reach the Auth Service at 127.0.0.1:${port}: connection refused`);
    expect(EXIT_CODES[err.kind as keyof typeof EXIT_CODES]).toBe(8);
  });

  it('reports a deadline that passes before the server ever answers as unavailable', async () => {
    const pki = await makePki();
    const held = new Set<net.Socket>();
    const silent = net.createServer((s) => held.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of held) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const { port } = silent.address() as net.AddressInfo;
    const conn = await connect({
      authServer: `127.0.0.1:${port}`,
      credentials: await userCredentials(pki),
      rpcTimeoutMs: 300,
    });
    cleanups.push(() => conn.close());
    const err = await conn.auth.ping().catch((e) => e);
    expect(err).toMatchObject({ code: 'DEADLINE_EXCEEDED', kind: 'unavailable' });
    expect(err.message).toBe(`cannot reach the Auth Service at 127.0.0.1:${port}: connection timed out`);
  });

  it('reports a server certificate from an untrusted CA as a TLS handshake failure (exit 8)', async () => {
    const serverPki = await makePki();
    const clientPki = await makePki();
    const server = await pingServer(serverPki);
    const conn = await connect({ authServer: server.address, credentials: await userCredentials(clientPki) });
    cleanups.push(() => conn.close());
    const err = await conn.auth.ping().catch((e) => e);
    expect(err).toMatchObject({ kind: 'unavailable' });
    expect(err.message).toBe(
      `cannot reach the Auth Service at ${server.address}: TLS handshake failed: server certificate is not signed by a trusted CA (check --ca / the identity file's CAs)`,
    );
  });

  it('checks the server certificate against teleport.cluster.local, not the dialled address', async () => {
    const pki = await makePki({ dnsNames: ['auth.example.com'] });
    const server = await pingServer(pki);
    const conn = await connect({ authServer: server.address, credentials: await userCredentials(pki) });
    cleanups.push(() => conn.close());
    const err = await conn.auth.ping().catch((e) => e);
    expect(err).toMatchObject({ kind: 'unavailable' });
    expect(err.message).toContain('server certificate is not valid for "teleport.cluster.local"');

    const named = await connect({
      authServer: server.address,
      credentials: await userCredentials(pki),
      tlsServerName: 'auth.example.com',
    });
    cleanups.push(() => named.close());
    await expect(named.auth.ping()).resolves.toMatchObject({ clusterName: 'local' });
  });

  it('reports a client certificate the server does not trust as permission (exit 7)', async () => {
    const serverPki = await makePki();
    const otherPki = await makePki();
    const server = await pingServer(serverPki);
    const creds = await userCredentials(otherPki);
    // Trust the real server, but present a certificate from a user CA it does not know.
    const conn = await connect({
      authServer: server.address,
      credentials: { ...creds, caPems: [serverPki.hostCa.certPem] },
    });
    cleanups.push(() => conn.close());
    const err = await conn.auth.ping().catch((e) => e);
    expect(err).toMatchObject({ kind: 'permission' });
    expect(err.message).toMatch(
      /^the Auth Service at 127\.0\.0\.1:\d+ rejected the client certificate \(.+\)$/,
    );
  });

  it('refuses an expired client certificate before connecting', async () => {
    const pki = await makePki();
    const issued = new Date('2026-01-01T00:00:00Z');
    const creds = await userCredentials(pki, {
      username: 'alice',
      now: issued,
      notAfter: new Date('2026-01-01T08:00:00Z'),
    });
    let connections = 0;
    const listener = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    const { port } = listener.address() as net.AddressInfo;

    const err = await connect({
      authServer: `127.0.0.1:${port}`,
      credentials: creds,
      now: () => new Date('2026-01-02T00:00:00Z'),
    }).catch((e) => e);
    expect(err).toMatchObject({ kind: 'permission' });
    expect(err.message).toBe(
      'certificate for "alice" expired at 2026-01-01T08:00:00Z; re-issue it (tsh login, tctl auth sign)',
    );
    expect(connections).toBe(0);
  });

  it('needs an address', async () => {
    const pki = await makePki();
    await expect(connect({ credentials: await userCredentials(pki) })).rejects.toMatchObject({
      kind: 'usage',
    });
  });
});

describe('assertCertificateCurrent', () => {
  it('accepts a certificate inside its validity window and refuses one not yet valid', async () => {
    const pki = await makePki();
    const now = new Date('2026-03-01T12:00:00Z');
    const id = parseIdentity((await userCredentials(pki, { now })).certPem);
    expect(() => assertCertificateCurrent(id, now)).not.toThrow();
    expect(() => assertCertificateCurrent(id, new Date('2026-03-01T11:00:00Z'))).toThrow(
      /is not valid before/,
    );
  });
});

describe('clusterFromCredentials', () => {
  it('routes to the root cluster, never a selected leaf (tsh: WithRootClusterClient)', async () => {
    const pki = await makePki({ cluster: 'root.example.com' });
    const creds = await userCredentials(pki);
    const id = parseIdentity(creds.certPem);
    expect(clusterFromCredentials(creds, id)).toBe('root.example.com');
    expect(clusterFromCredentials(creds, { ...id, teleportCluster: 'from-cert' })).toBe('from-cert');
    expect(clusterFromCredentials(creds, { ...id, routeToCluster: 'leaf' })).toBe('root.example.com');
    const profile = {
      ...creds,
      source: {
        kind: 'tsh-profile' as const,
        home: '/h',
        profile: 'p',
        user: 'alice',
        proxyAddr: 'p:443',
        cluster: 'leaf.example.com',
        rootCluster: 'root.example.com',
      },
    };
    expect(clusterFromCredentials(profile, { ...id, routeToCluster: 'leaf.example.com' })).toBe(
      'root.example.com',
    );
  });
});

describe('parseHostPort', () => {
  it.each([
    ['auth.example.com', 3025, 'auth.example.com:3025'],
    ['auth.example.com:4025', 3025, 'auth.example.com:4025'],
    ['https://proxy.example.com/', 443, 'proxy.example.com:443'],
    ['[::1]', 3025, '[::1]:3025'],
    ['[::1]:9', 3025, '[::1]:9'],
    ['::1', 443, '[::1]:443'],
  ])('%s → %s', (input, port, address) => {
    expect(parseHostPort(input, port, '--auth-server').address).toBe(address);
  });

  it.each(['', ':3025', 'host:0', 'host:http', 'host:70000'])('rejects %j as a usage error', (input) => {
    expect(() => parseHostPort(input, 3025, '--auth-server')).toThrow(
      expect.objectContaining({ kind: 'usage' }),
    );
  });
});

describe('error classification', () => {
  it('maps gRPC codes to error kinds', () => {
    expect(kindForCode('INVALID_ARGUMENT')).toBe('usage');
    expect(kindForCode('NOT_FOUND')).toBe('not-found');
    expect(kindForCode('ALREADY_EXISTS')).toBe('failure');
    expect(kindForCode('PERMISSION_DENIED')).toBe('permission');
    expect(kindForCode('UNAUTHENTICATED')).toBe('permission');
    expect(kindForCode('UNAVAILABLE')).toBe('unavailable');
    expect(kindForCode('FAILED_PRECONDITION')).toBe('failure');
    expect(kindForCode('DEADLINE_EXCEEDED')).toBe('failure');
    expect(kindForCode('UNKNOWN')).toBe('failure');
  });

  it('classifies socket and TLS error codes', () => {
    const at = 'the Auth Service at h:1';
    const ctx = {
      serverName: 'teleport.cluster.local',
      alpn: 'teleport-auth@6c6f63616c.teleport.cluster.local',
    };
    const c = (code: string) => classifyConnectError(Object.assign(new Error(code), { code }), at, ctx);
    expect(c('ECONNREFUSED')).toMatchObject({
      kind: 'unavailable',
      message: `cannot reach ${at}: connection refused`,
    });
    expect(c('SELF_SIGNED_CERT_IN_CHAIN')?.message).toContain('not signed by a trusted CA');
    expect(c('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE')).toMatchObject({
      kind: 'permission',
      message: `${at} rejected the client certificate (bad certificate)`,
    });
    expect(c('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL')?.message).toContain(
      'refused the ALPN protocol "teleport-auth@6c6f63616c.teleport.cluster.local"',
    );
    expect(c('EWHATEVER')).toBeUndefined();
  });
});
