import * as https from 'node:https';
import * as net from 'node:net';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { authAlpnProtocol } from '../../src/client/alpn-bridge.js';
import { createCertificateAuthority, generateKey, issueCertificate } from '../../src/identity/index.js';

/**
 * The ALPN protocols offered in a TLS ClientHello record (RFC 8446 §4.1.2, extension 16 of
 * RFC 7301), or undefined while the record is incomplete. Throws on anything else.
 */
export function clientHelloAlpn(buf: Buffer): string[] | undefined {
  if (buf.length < 5) return undefined;
  if (buf[0] !== 0x16) throw new Error('not a TLS handshake record');
  const recordEnd = 5 + buf.readUInt16BE(3);
  if (buf.length < recordEnd) return undefined;
  let p = 5;
  if (buf[p] !== 1) throw new Error('not a ClientHello');
  p += 4 + 2 + 32; // handshake header, legacy_version, random
  p += 1 + buf[p]; // legacy_session_id
  p += 2 + buf.readUInt16BE(p); // cipher_suites
  p += 1 + buf[p]; // legacy_compression_methods
  const extEnd = p + 2 + buf.readUInt16BE(p);
  p += 2;
  while (p + 4 <= extEnd) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (type === 16) {
      const out: string[] = [];
      let q = p + 2;
      while (q < p + len) {
        const n = buf[q];
        out.push(buf.subarray(q + 1, q + 1 + n).toString('latin1'));
        q += 1 + n;
      }
      return out;
    }
    p += len;
  }
  return [];
}

function pipeBoth(a: net.Socket | NodeJS.ReadWriteStream, b: net.Socket) {
  a.pipe(b);
  b.pipe(a as NodeJS.WritableStream);
  const kill = () => {
    (a as net.Socket).destroy?.();
    b.destroy();
  };
  (a as net.Socket).on('error', kill);
  b.on('error', kill);
  (a as net.Socket).on('close', kill);
  b.on('close', kill);
}

/**
 * A Teleport-like ALPN router (lib/srv/alpnproxy with the auth route's ForwardTLS): it reads
 * the ClientHello without terminating TLS and, when ALPN[0] is the auth route of `cluster`,
 * forwards the raw bytes to the Auth Service at `authPort`, so mTLS runs end to end. Any
 * other first protocol is dropped, as the real router does for unknown routes.
 */
export async function startAlpnRouter(authPort: number, cluster: string) {
  const expected = authAlpnProtocol(cluster);
  const offered: string[][] = [];
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let alpn: string[] | undefined;
      try {
        alpn = clientHelloAlpn(buf);
      } catch {
        socket.destroy();
        return;
      }
      if (!alpn) return;
      socket.off('data', onData);
      socket.pause();
      offered.push(alpn);
      if (alpn[0] !== expected) {
        socket.destroy();
        return;
      }
      const upstream = net.connect(authPort, '127.0.0.1', () => {
        upstream.write(buf);
        pipeBoth(socket, upstream);
        socket.resume();
      });
      upstream.on('error', () => socket.destroy());
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    offered,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface L7Balancer {
  address: string;
  /** PEM of the CA that signed the balancer's certificate (a stand-in for a public CA). */
  caPem: string;
  /** Upgrades accepted, by kind: `websocket:alpn-ping`, `legacy:alpn`, … */
  upgrades: string[];
  /** The ALPN lists clients offered in their TLS handshakes with the balancer. */
  offered: string[][];
  close(): Promise<void>;
}

/**
 * A stand-in for an L7 load balancer in front of a Teleport Proxy (an AWS ALB, say): it
 * terminates TLS with its own certificate (ALPN h2/http1.1 as such balancers offer) and
 * passes on only what the Proxy's web API accepts on `/webapi/connectionupgrade`
 * (lib/web/conn_upgrade.go, connectionUpgrade): a WebSocket upgrade with subprotocol `alpn`
 * or `alpn-ping` (pings sent as WebSocket pings), or the legacy `Upgrade: alpn`; the
 * upgraded bytes go to the ALPN router at `routerPort`. Everything else gets 404, and
 * with `refuse` so does every upgrade.
 */
export async function startL7Balancer(
  routerPort: number,
  opts: { refuse?: boolean } = {},
): Promise<L7Balancer> {
  const now = new Date();
  const ca = await createCertificateAuthority({ clusterName: 'public-ca', kind: 'host', now });
  const key = await generateKey('ecdsa-p256');
  const cert = await issueCertificate({
    ca,
    publicKeyPem: key.publicKeyPem,
    identity: { username: 'lb', roles: [], traits: {}, activeRequests: [], allowedResourceIds: [] },
    notAfter: new Date(now.getTime() + 3600_000),
    now,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const upgrades: string[] = [];
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => ['alpn-ping', 'alpn'].find((p) => protocols.has(p)) ?? false,
  });
  const offered: string[][] = [];
  const server = https.createServer(
    {
      key: key.privateKeyPem,
      cert,
      // As ALPNProtocols ['h2', 'http/1.1'] would, recording what each client offered.
      ALPNCallback: ({ protocols }) => {
        offered.push(protocols);
        return ['h2', 'http/1.1'].find((p) => protocols.includes(p));
      },
    },
    (_req, res) => {
      res.writeHead(404).end();
    },
  );
  const toRouter = () => net.connect(routerPort, '127.0.0.1');
  server.on('upgrade', (req, socket: net.Socket, head: Buffer) => {
    const types = [req.headers.upgrade, req.headers['x-teleport-upgrade']].flatMap((v) =>
      typeof v === 'string' ? v.split(',').map((s) => s.trim().toLowerCase()) : [],
    );
    if (opts.refuse || req.url !== '/webapi/connectionupgrade') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    if (types.includes('websocket')) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        upgrades.push(`websocket:${ws.protocol}`);
        if (ws.protocol === 'alpn-ping') {
          const timer = setInterval(() => ws.ping('teleport'), 50);
          ws.on('close', () => clearInterval(timer));
        }
        const stream = createWebSocketStream(ws);
        pipeBoth(stream as unknown as net.Socket, toRouter());
      });
      return;
    }
    if (types.includes('alpn')) {
      upgrades.push('legacy:alpn');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: alpn\r\nX-Teleport-Upgrade: alpn\r\nConnection: Upgrade\r\n\r\n',
      );
      const upstream = toRouter();
      if (head.length > 0) upstream.write(head);
      pipeBoth(socket, upstream);
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  server.on('tlsClientError', () => {});
  const open = new Set<net.Socket>();
  server.on('secureConnection', (s: net.Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    caPem: ca.certPem,
    upgrades,
    offered,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
