/**
 * The client's gRPC framing and status handling against a raw node:http2 server, where each
 * answer can be shaped exactly (trailers-only, percent-encoded messages, resets). The
 * behaviour against grpc-js's server is covered by rpc.test.ts and the e2e suites.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallStatus, Channel, decodeGrpcMessage, grpcTimeout } from '../../../src/client/grpc-wire.js';

type Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

function framed(...messages: Buffer[]): Buffer {
  return Buffer.concat(
    messages.map((m) => {
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(m.length, 1);
      return Buffer.concat([prefix, m]);
    }),
  );
}

describe('grpc-wire', () => {
  let server: http2.Http2Server;
  let port: number;
  let sessions = 0;
  const handlers = new Map<string, Handler>();
  const seen: http2.IncomingHttpHeaders[] = [];
  const open = new Set<http2.ServerHttp2Session>();

  beforeAll(async () => {
    server = http2.createServer();
    server.on('session', (session) => {
      sessions++;
      open.add(session);
      session.on('close', () => open.delete(session));
    });
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      seen.push(headers);
      const h = handlers.get(String(headers[':path']));
      if (!h) {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
          { endStream: true },
        );
        return;
      }
      // Read the request fully before answering, as a gRPC server does for unary calls.
      stream.resume();
      stream.on('end', () => h(stream, headers));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const channel = (maxReceiveMessageBytes = 1024) =>
    new Channel({
      authority: 'teleport.cluster.local',
      dial: () => net.connect(port, '127.0.0.1'),
      maxReceiveMessageBytes,
    });

  function run(
    ch: Channel,
    path: string,
    timeoutMs?: number,
  ): Promise<{ messages: string[]; status: CallStatus }> {
    return new Promise((resolve) => {
      const messages: string[] = [];
      ch.start(path, Buffer.from('req'), timeoutMs, {
        onMessage: (m) => messages.push(Buffer.from(m).toString()),
        onStatus: (status) => resolve({ messages, status }),
      });
    });
  }

  it('sends the gRPC request headers and one length-prefixed message', async () => {
    let body = Buffer.alloc(0);
    handlers.set('/svc/Echo', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(framed(Buffer.from('a'), Buffer.from('bc')));
    });
    server.once('stream', (s) => s.on('data', (d: Buffer) => (body = Buffer.concat([body, d]))));
    const ch = channel();
    const r = await run(ch, '/svc/Echo', 1500);
    ch.close();
    expect(r).toEqual({ messages: ['a', 'bc'], status: { code: 'OK', details: '' } });
    expect(body).toEqual(framed(Buffer.from('req')));
    expect(seen.at(-1), JSON.stringify(seen.at(-1))).toMatchObject({
      ':method': 'POST',
      ':authority': 'teleport.cluster.local',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '1500m',
    });
  });

  it('reads an empty message (google.protobuf.Empty) at the end of the data', async () => {
    handlers.set('/svc/Empty', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(framed(Buffer.alloc(0)));
    });
    const ch = channel();
    const r = await run(ch, '/svc/Empty');
    ch.close();
    expect(r).toEqual({ messages: [''], status: { code: 'OK', details: '' } });
  });

  it('reads the status of a trailers-only answer; a malformed grpc-message is kept as sent', async () => {
    handlers.set('/svc/Denied', (stream) => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '7',
          'grpc-message': 'access%20denied%3A%20%E2%9C%93 100%',
          'grpc-status-details-bin': 'AAAA',
        },
        { endStream: true },
      );
    });
    const ch = channel();
    const r = await run(ch, '/svc/Denied');
    ch.close();
    expect(r.status).toEqual({ code: 'PERMISSION_DENIED', details: 'access%20denied%3A%20%E2%9C%93 100%' });
    expect(decodeGrpcMessage('access%20denied%3A%20%E2%9C%93')).toBe('access denied: ✓');
  });

  it('decodes grpc-message when it is well formed', async () => {
    handlers.set('/svc/NotFound', (stream) => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '5',
          'grpc-message': 'no%20such%0Arequest',
        },
        { endStream: true },
      );
    });
    const ch = channel();
    const r = await run(ch, '/svc/NotFound');
    ch.close();
    expect(r.status).toEqual({ code: 'NOT_FOUND', details: 'no such\nrequest' });
  });

  it('refuses a message over the receive limit with RESOURCE_EXHAUSTED', async () => {
    handlers.set('/svc/Big', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.end(framed(Buffer.alloc(2048, 1)));
    });
    const ch = channel(1024);
    const r = await run(ch, '/svc/Big');
    ch.close();
    expect(r.messages).toEqual([]);
    expect(r.status).toEqual({
      code: 'RESOURCE_EXHAUSTED',
      details: 'Received message larger than max (2048 vs 1024)',
    });
  });

  it('maps a reset stream to UNAVAILABLE and an HTTP error to its gRPC status', async () => {
    handlers.set('/svc/Reset', (stream) => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    handlers.set('/svc/Http503', (stream) => stream.respond({ ':status': 503 }, { endStream: true }));
    const ch = channel();
    const reset = await run(ch, '/svc/Reset');
    const unavailable = await run(ch, '/svc/Http503');
    ch.close();
    expect(reset.status.code).toBe('UNAVAILABLE');
    expect(unavailable.status).toEqual({ code: 'UNAVAILABLE', details: 'Received HTTP status code 503' });
  });

  it('ends a call at its deadline, and reuses one session for every call', async () => {
    handlers.set('/svc/Hang', () => {});
    handlers.set('/svc/Ok', (stream) =>
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' },
        { endStream: true },
      ),
    );
    const before = sessions;
    const ch = channel();
    const hung = await run(ch, '/svc/Hang', 100);
    await run(ch, '/svc/Ok');
    await run(ch, '/svc/Ok');
    ch.close();
    expect(hung.status.code).toBe('DEADLINE_EXCEEDED');
    expect(ch.isConnected()).toBe(false);
    expect(sessions - before).toBe(1);
  });

  it('opens a new session after the server sent GOAWAY', async () => {
    handlers.set('/svc/Away', (stream) => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' },
        { endStream: true },
      );
      stream.session?.goaway();
    });
    const before = sessions;
    const ch = channel();
    expect((await run(ch, '/svc/Away')).status.code).toBe('OK');
    // Whether or not the GOAWAY is read before this call starts, it succeeds on a new session.
    expect((await run(ch, '/svc/Away')).status.code).toBe('OK');
    ch.close();
    expect(sessions - before).toBe(2);
  });

  describe('keepalive', () => {
    /** A relay in front of the server that can stop passing bytes, as a dead network does. */
    async function relay(): Promise<{ port: number; blackhole(): void; close(): Promise<void> }> {
      const sockets = new Set<net.Socket>();
      let dropping = false;
      const r = net.createServer((client) => {
        const upstream = net.connect(port, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
        }
        client.on('data', (d) => dropping || upstream.write(d));
        upstream.on('data', (d) => dropping || client.write(d));
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      await new Promise<void>((resolve) => r.listen(0, '127.0.0.1', resolve));
      return {
        port: (r.address() as net.AddressInfo).port,
        blackhole: () => {
          dropping = true;
        },
        close: async () => {
          for (const s of sockets) s.destroy();
          await new Promise<void>((resolve) => r.close(() => resolve()));
        },
      };
    }

    /** A server stream that sends one message and then stays open until `end` is called. */
    function openStream(path: string): { end(): void; started: Promise<void> } {
      let end = () => {};
      let started = () => {};
      const startedP = new Promise<void>((resolve) => {
        started = resolve;
      });
      handlers.set(path, (stream) => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.write(framed(Buffer.from('first')), () => started());
        end = () => stream.end();
      });
      return { end: () => end(), started: startedP };
    }

    it('ends a call on a connection that stopped answering with UNAVAILABLE, naming the keepalive', {
      timeout: 10_000,
    }, async () => {
      const hole = await relay();
      openStream('/svc/Watch');
      const ch = new Channel({
        authority: 'teleport.cluster.local',
        dial: () => net.connect(hole.port, '127.0.0.1'),
        maxReceiveMessageBytes: 1024,
        keepalive: { intervalMs: 50, timeoutMs: 200 },
      });
      let firstMessage = () => {};
      const received = new Promise<void>((resolve) => {
        firstMessage = resolve;
      });
      const messages: string[] = [];
      const call = new Promise<{ messages: string[]; status: CallStatus }>((resolve) => {
        ch.start('/svc/Watch', Buffer.from('req'), undefined, {
          onMessage: (m) => {
            messages.push(Buffer.from(m).toString());
            firstMessage();
          },
          onStatus: (status) => resolve({ messages, status }),
        });
      });
      await received;
      hole.blackhole();
      const r = await call;
      ch.close();
      await hole.close();
      expect(r.messages).toEqual(['first']);
      expect(r.status.code).toBe('UNAVAILABLE');
      expect(r.status.details).toMatch(/keepalive ping/);
    });

    it('keeps a healthy long call open across many pings', { timeout: 10_000 }, async () => {
      const stream = openStream('/svc/Long');
      let pings = 0;
      let enough = () => {};
      const pinged = new Promise<void>((resolve) => {
        enough = resolve;
      });
      const onSession = (session: http2.ServerHttp2Session) =>
        session.on('ping', () => {
          if (++pings === 5) enough();
        });
      for (const s of open) onSession(s);
      server.on('session', onSession);
      const ch = new Channel({
        authority: 'teleport.cluster.local',
        dial: () => net.connect(port, '127.0.0.1'),
        maxReceiveMessageBytes: 1024,
        keepalive: { intervalMs: 20, timeoutMs: 500 },
      });
      const call = run(ch, '/svc/Long');
      await stream.started;
      await pinged;
      stream.end();
      const r = await call;
      server.off('session', onSession);
      ch.close();
      expect(r).toEqual({ messages: ['first'], status: { code: 'OK', details: '' } });
    });
  });

  it('encodes grpc-timeout as grpc-js does', () => {
    expect(grpcTimeout(0)).toBe('0m');
    expect(grpcTimeout(30_000)).toBe('30000m');
    expect(grpcTimeout(99_999_999)).toBe('99999999m');
    expect(grpcTimeout(100_000_000)).toBe('100000S');
  });
});
