/**
 * Issue 10 item 11: idle TCP connections and half-sent TLS handshakes are closed after the
 * handshake deadline (Teleport: lib/multiplexer/tls.go, HandshakeReadDeadline), and a
 * connection that completed its handshake but makes no call is closed after the idle bound.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as http2Connect } from 'node:http2';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListAccessRequestsRequest } from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { connectIdentity, parseIdentityPems } from '../helpers/grpc.js';

let dir: string;
let server: RunningServer;
let host: string;
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-conns-'));
  server = await startServer({
    dataDir: dir,
    listen: '127.0.0.1:0',
    tlsHandshakeTimeoutMs: 300,
    idleConnectionMs: 300,
  });
  [host, port] = [server.addr.split(':')[0], Number(server.addr.split(':')[1])];
});

afterAll(async () => {
  await server?.stop({ graceMs: 1000 });
  await rm(dir, { recursive: true, force: true });
});

/** Resolves when every socket has been closed by the server; rejects after `ms`. */
function allClosed(sockets: Socket[], ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let open = sockets.length;
    const timer = setTimeout(() => {
      for (const s of sockets) s.destroy();
      reject(new Error(`${open} of ${sockets.length} connections still open after ${ms} ms`));
    }, ms);
    for (const s of sockets) {
      s.on('error', () => {});
      s.once('close', () => {
        if (--open === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

/** The start of a TLS ClientHello record, cut off before its end. */
const HALF_CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

describe('connection bounds', () => {
  it('closes 300 silent TCP connections and 150 half-sent handshakes, then still serves', async () => {
    const silent = Array.from({ length: 300 }, () => tcpConnect(port, host));
    const half = Array.from({ length: 150 }, () => {
      const s = tcpConnect(port, host);
      s.once('connect', () => s.write(HALF_CLIENT_HELLO));
      return s;
    });
    await allClosed([...silent, ...half], 5_000);
    const alice = await connectIdentity(server.addr, server.identityPath('alice'));
    try {
      await expect(
        alice.call('listAccessRequests', ListAccessRequestsRequest.fromPartial({})),
      ).resolves.toBeDefined();
    } finally {
      alice.close();
    }
  });

  it('closes an HTTP/2 connection that finished the TLS handshake but makes no call', async () => {
    const pems = parseIdentityPems(await readFile(server.identityPath('alice'), 'utf8'));
    const session = http2Connect(`https://${server.addr}`, {
      key: pems.keyPem,
      cert: pems.certPem,
      ca: pems.caPems,
      servername: 'teleport.cluster.local',
    });
    session.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
    await allClosed([session.socket as Socket], 5_000);
  });

  it('closes 100 authenticated TLS connections that never send a frame (not even the HTTP/2 preface)', async () => {
    const pems = parseIdentityPems(await readFile(server.identityPath('alice'), 'utf8'));
    let authenticated = 0;
    const sockets = Array.from({ length: 100 }, () => {
      const s = tlsConnect({
        host,
        port,
        key: pems.keyPem,
        cert: pems.certPem,
        ca: pems.caPems,
        servername: 'teleport.cluster.local',
        ALPNProtocols: ['h2'],
      });
      // Reads (and drops) the server's SETTINGS, so the server's close is seen; sends nothing.
      s.resume();
      s.once('secureConnect', () => authenticated++);
      return s;
    });
    await allClosed(sockets, 5_000);
    expect(authenticated).toBeGreaterThan(0);
  });
});
