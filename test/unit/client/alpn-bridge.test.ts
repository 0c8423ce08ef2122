import { existsSync, statSync } from 'node:fs';
import * as net from 'node:net';
import { dirname } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authAlpnProtocol, startAlpnBridge } from '../../../src/client/alpn-bridge.js';
import { connect } from '../../../src/client/connect.js';
import { RpcError } from '../../../src/client/errors.js';
import { PingResponse } from '../../../src/gen/teleport/legacy/client/proto/authservice.js';
import type { Credentials } from '../../../src/identity/types.js';
import { makePki, type Pki, startAuthServer, type TestServer, userCredentials } from './helpers.js';

/**
 * A stand-in for a Proxy with TLS routing: mTLS with the client, and it refuses (TLS alert
 * no_application_protocol) any connection whose first ALPN protocol is not the auth route
 * of its cluster. Accepted connections are decrypted and piped to a plaintext gRPC server.
 */
async function startProxy(pki: Pki, backend: TestServer) {
  const expected = authAlpnProtocol(pki.cluster);
  const offered: string[][] = [];
  const server = tls.createServer(
    {
      key: pki.serverKeyPem,
      cert: pki.serverCertPem,
      ca: [pki.userCa.certPem],
      requestCert: true,
      rejectUnauthorized: true,
      ALPNCallback: ({ protocols }) => {
        offered.push(protocols);
        // A real Proxy also routes the reverse tunnel, which the connection-upgrade probe offers.
        if (protocols[0] === 'teleport-reversetunnel') return protocols[0];
        return protocols[0] === expected && protocols.includes('h2') ? 'h2' : undefined;
      },
    },
    (socket) => {
      const upstream = net.connect(backend.port, '127.0.0.1');
      socket.pipe(upstream);
      upstream.pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    port,
    offered,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('proxy mode (TLS routing through an ALPN bridge)', () => {
  let pki: Pki;
  let creds: Credentials;
  let backend: TestServer;
  let proxy: Awaited<ReturnType<typeof startProxy>>;

  beforeAll(async () => {
    pki = await makePki({ cluster: 'example.com' });
    creds = await userCredentials(pki);
    backend = await startAuthServer({
      ping: (_call, cb) => cb(null, PingResponse.fromPartial({ clusterName: 'example.com' })),
    });
    proxy = await startProxy(pki, backend);
  });

  afterAll(async () => {
    await proxy?.close();
    await backend?.close();
  });

  it('offers teleport-auth@<hex(cluster)>.teleport.cluster.local first, then h2', () => {
    expect(authAlpnProtocol('example.com')).toBe(
      'teleport-auth@6578616d706c652e636f6d.teleport.cluster.local',
    );
  });

  it('pings the Auth Service through the Proxy', async () => {
    const before = proxy.offered.length;
    const conn = await connect({ proxy: proxy.address, credentials: creds });
    try {
      await expect(conn.auth.ping()).resolves.toMatchObject({ clusterName: 'example.com' });
      // The cluster defaulted to the issuer CN of the certificate.
      expect(conn.clusterName).toBe('example.com');
    } finally {
      conn.close();
    }
    const seen = proxy.offered.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    for (const list of seen) {
      expect(list[0]).toBe('teleport-auth@6578616d706c652e636f6d.teleport.cluster.local');
      expect(list).toContain('h2');
    }
  });

  it('is refused by the Proxy with a wrong cluster name, as one unavailable line', async () => {
    const conn = await connect({ proxy: proxy.address, credentials: creds, clusterName: 'other' });
    try {
      const err = await conn.auth.ping().catch((e) => e);
      expect(err).toBeInstanceOf(RpcError);
      expect(err).toMatchObject({ kind: 'unavailable' });
      expect(err.message).toBe(
        `cannot reach the Auth Service through the Proxy at ${proxy.address}: TLS handshake failed: the server refused the ALPN protocol "teleport-auth@6f74686572.teleport.cluster.local" (check the cluster name)`,
      );
    } finally {
      conn.close();
    }
    expect(proxy.offered.map((l) => l[0])).toContain('teleport-auth@6f74686572.teleport.cluster.local');
  });

  it('verifies the Proxy against the trusted CAs', async () => {
    const stranger = await makePki({ cluster: 'example.com' });
    const conn = await connect({
      proxy: proxy.address,
      credentials: { ...creds, caPems: [stranger.hostCa.certPem] },
    });
    try {
      const err = await conn.auth.ping().catch((e) => e);
      expect(err).toMatchObject({ kind: 'unavailable' });
      expect(err.message).toContain('server certificate is not signed by a trusted CA');
    } finally {
      conn.close();
    }
  });

  it('listens on a socket in a private directory and removes it on close', async () => {
    const bridge = await startAlpnBridge({
      host: '127.0.0.1',
      port: proxy.port,
      serverName: 'teleport.cluster.local',
      clusterName: 'example.com',
      certPem: creds.certPem,
      keyPem: creds.keyPem,
      caPems: creds.caPems,
      endpoint: 'the Auth Service through the Proxy',
    });
    const dir = dirname(bridge.socketPath);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(bridge.socketPath).isSocket()).toBe(true);
    expect(bridge.alpnProtocols).toEqual([authAlpnProtocol('example.com'), 'h2']);
    bridge.close();
    expect(existsSync(dir)).toBe(false);
  });
});
