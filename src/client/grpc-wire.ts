/**
 * gRPC over HTTP/2 for the client, on `node:http2` alone (the PROTOCOL-HTTP2 document of
 * grpc/grpc, as grpc-js speaks it): one HTTP/2 session per connection, reused by every call
 * and opened again after it ends; requests are one length-prefixed message; the status comes
 * in the trailers, or in the headers of a trailers-only answer. Only unary and
 * server-streaming calls, without compression.
 */
import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { type StatusName, statusName } from './errors.js';

/** How a call ended: the status, its details, and the error that caused it when local. */
export interface CallStatus {
  code: StatusName;
  details: string;
  /** The socket or TLS error behind an UNAVAILABLE the transport produced. */
  cause?: unknown;
}

export interface CallHandlers {
  /** One received message (its protobuf bytes). */
  onMessage(bytes: Uint8Array): void;
  /** The call is over; called exactly once, after the last onMessage. */
  onStatus(status: CallStatus): void;
}

/** A call in flight. */
export interface Call {
  /** Ends the call; onStatus then reports `status` (CANCELLED or DEADLINE_EXCEEDED). */
  cancel(status?: CallStatus): void;
  /** Stops reading until resume(): HTTP/2 flow control holds the server back. */
  pause(): void;
  resume(): void;
}

export interface ChannelOptions {
  /** `:authority` of every request: the name the server certificate carries. */
  authority: string;
  /** Opens the byte stream a session runs on (a TLS socket with ALPN h2, or a bridge's socket). */
  dial(): Duplex;
  /** Receive limit of one message, bytes. */
  maxReceiveMessageBytes: number;
  /** Keepalive: how often to ping while calls are in flight, and how long to wait for the ack. */
  keepalive?: { intervalMs: number; timeoutMs: number };
}

/**
 * Keepalive pings while calls are in flight, so a wait whose connection silently died (a
 * laptop that changed networks, a NAT that dropped the flow) fails with UNAVAILABLE and
 * reconnects instead of waiting for TCP to give up. Teleport's auth gRPC server
 * (lib/auth/grpcserver.go, NewGRPCServer) enforces keepalive.EnforcementPolicy{MinTime:
 * KeepAlivePeriod, PermitWithoutStream: true}, and KeepAlivePeriod defaults to
 * apidefaults.ServerKeepAliveTTL() = 60s (lib/auth/apiserver.go,
 * APIConfig.CheckAndSetDefaults): a client pinging more often collects strikes and is sent
 * GOAWAY too_many_pings. 90s keeps a margin over that floor and still notices a dead
 * connection within two minutes.
 */
export const DEFAULT_KEEPALIVE = { intervalMs: 90_000, timeoutMs: 20_000 } as const;

/** grpc-js's `grpc-timeout` encoding: the smallest unit whose amount has at most 8 digits. */
const TIMEOUT_UNITS: readonly [string, number][] = [
  ['m', 1],
  ['S', 1_000],
  ['M', 60_000],
  ['H', 3_600_000],
];

export function grpcTimeout(ms: number): string {
  const timeoutMs = Math.max(ms, 0);
  for (const [unit, factor] of TIMEOUT_UNITS) {
    const amount = Math.ceil(timeoutMs / factor);
    if (amount < 1e8) return `${amount}${unit}`;
  }
  return '99999999H';
}

/** `grpc-message` is percent-encoded UTF-8; a malformed escape is kept as received. */
export function decodeGrpcMessage(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The status of an answer that carries no grpc-status: the HTTP status mapped as in
 * grpc's http-grpc-status-mapping.md.
 */
function httpStatus(code: number): CallStatus {
  const byHttp: Record<number, StatusName> = {
    400: 'INTERNAL',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'UNIMPLEMENTED',
    429: 'UNAVAILABLE',
    502: 'UNAVAILABLE',
    503: 'UNAVAILABLE',
    504: 'UNAVAILABLE',
  };
  return { code: byHttp[code] ?? 'UNKNOWN', details: `Received HTTP status code ${code}` };
}

function headerValue(headers: http2.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The status in a header block, when it carries one. */
function statusFrom(headers: http2.IncomingHttpHeaders): CallStatus | undefined {
  const raw = headerValue(headers, 'grpc-status');
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return {
    code: Number.isInteger(n) ? statusName(n) : 'UNKNOWN',
    details: decodeGrpcMessage(headerValue(headers, 'grpc-message') ?? ''),
  };
}

/** Splits the DATA of a response into length-prefixed messages without copying more than once. */
class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the message being read, once its 5-byte prefix is in. */
  private pending = -1;

  constructor(private readonly maxBytes: number) {}

  /** The messages complete after `chunk`, or a status that ends the call. */
  push(chunk: Buffer, out: Uint8Array[]): CallStatus | undefined {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.pending < 0) {
        if (this.buffered < 5) return undefined;
        const prefix = this.take(5);
        if (prefix[0] !== 0) {
          return { code: 'INTERNAL', details: 'received a compressed message, but asked for none' };
        }
        this.pending = prefix.readUInt32BE(1);
        if (this.pending > this.maxBytes) {
          return {
            code: 'RESOURCE_EXHAUSTED',
            details: `Received message larger than max (${this.pending} vs ${this.maxBytes})`,
          };
        }
      }
      if (this.buffered < this.pending) return undefined;
      out.push(this.take(this.pending));
      this.pending = -1;
    }
  }

  /** Whether a message was cut off by the end of the stream. */
  get partial(): boolean {
    return this.buffered > 0 || this.pending >= 0;
  }

  private take(n: number): Buffer {
    // An empty message (google.protobuf.Empty) has no bytes, and maybe no chunk left.
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const c = this.chunks[0];
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }
}

/**
 * The HTTP/2 connection of one Connection: opened on the first call, shared by all calls,
 * and opened again by the next call once it has closed or the server sent GOAWAY.
 */
export class Channel {
  private session: http2.ClientHttp2Session | undefined;
  private sessionError: unknown;
  private connected = false;
  private active = 0;
  private closed = false;

  constructor(private readonly opts: ChannelOptions) {}

  /** Whether the current session completed its handshake (TLS and the HTTP/2 preface). */
  isConnected(): boolean {
    return this.connected && this.session !== undefined;
  }

  private open(): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    this.connected = false;
    this.sessionError = undefined;
    const session = http2.connect(`https://${this.opts.authority}`, {
      createConnection: () => this.opts.dial(),
      settings: { enablePush: false },
    });
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    session.once('connect', () => {
      if (this.session === session) this.connected = true;
    });
    session.on('error', (err) => {
      if (this.session === session) this.sessionError = err;
    });
    // New calls go to a new session; calls in flight finish on this one.
    session.once('goaway', forget);
    session.once('close', forget);
    this.session = session;
    this.keepAlive(session);
    return session;
  }

  /**
   * Pings `session` every interval while calls are in flight; a ping not acknowledged in
   * time destroys the session, which ends its calls with UNAVAILABLE (DEFAULT_KEEPALIVE).
   */
  private keepAlive(session: http2.ClientHttp2Session): void {
    const { intervalMs, timeoutMs } = this.opts.keepalive ?? DEFAULT_KEEPALIVE;
    const timer = setInterval(() => {
      if (this.active === 0 || session.closed || session.destroyed) return;
      const deadline = setTimeout(() => {
        session.destroy(
          new Error(
            `the connection stopped answering: no keepalive ping acknowledgement within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      deadline.unref();
      // ping() returns false only when too many pings are unacknowledged; the deadline covers it.
      session.ping(() => clearTimeout(deadline));
    }, intervalMs);
    timer.unref();
    session.once('close', () => clearInterval(timer));
  }

  /** Starts a call of `path` with one request message. */
  start(path: string, request: Uint8Array, timeoutMs: number | undefined, handlers: CallHandlers): Call {
    if (this.closed) {
      queueMicrotask(() => handlers.onStatus({ code: 'CANCELLED', details: 'the connection is closed' }));
      return { cancel: () => {}, pause: () => {}, resume: () => {} };
    }
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': path,
      // The session's own default would add `:443`; grpc-js sends the bare name.
      ':authority': this.opts.authority,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-accept-encoding': 'identity',
      'user-agent': 'access-grpc-http2',
    };
    if (timeoutMs !== undefined) headers['grpc-timeout'] = grpcTimeout(timeoutMs);
    const body = frame(request);

    const reader = new MessageReader(this.opts.maxReceiveMessageBytes);
    const received: Uint8Array[] = [];
    let stream: http2.ClientHttp2Stream | undefined;
    let final: CallStatus | undefined;
    let httpCode: number | undefined;
    let done = false;
    let retried = false;
    let timer: NodeJS.Timeout | undefined;
    this.ref(1);

    const finish = (s: CallStatus) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      this.ref(-1);
      handlers.onStatus(s);
    };
    /** Ends the call locally with `s` and tells the server to stop. */
    const abort = (s: CallStatus) => {
      final ??= s;
      // A stream still waiting for its session closes only once that session is up.
      if (stream && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      finish(final);
    };
    /**
     * A stream the server never processed (refused after GOAWAY, or a session that was
     * already going away) is sent once more on a new session, as gRPC's transparent retry.
     */
    const retry = (): boolean => {
      if (retried || done) return false;
      retried = true;
      this.session = undefined;
      send();
      return true;
    };

    const send = () => {
      let s: http2.ClientHttp2Stream;
      try {
        s = this.open().request(headers, { endStream: false });
      } catch (err) {
        if (!retry()) finish({ code: 'UNAVAILABLE', details: (err as Error).message, cause: err });
        return;
      }
      stream = s;
      s.on('response', (h) => {
        httpCode = Number(h[':status']);
        const trailersOnly = statusFrom(h);
        if (trailersOnly) {
          final ??= trailersOnly;
          return;
        }
        if (httpCode !== 200) {
          final ??= httpStatus(httpCode);
          return;
        }
        const type = headerValue(h, 'content-type') ?? '';
        if (!type.startsWith('application/grpc')) {
          abort({ code: 'UNKNOWN', details: `Invalid content-type ${JSON.stringify(type)}` });
        }
      });
      s.on('data', (chunk: Buffer) => {
        if (final) return;
        const failure = reader.push(chunk, received);
        for (const m of received) handlers.onMessage(m);
        received.length = 0;
        if (failure) abort(failure);
      });
      s.on('trailers', (t) => {
        final ??= statusFrom(t);
      });
      // A stream the session took down carries the session's error as its cause.
      let streamError: unknown;
      s.on('error', (err: Error) => {
        streamError = err.cause ?? err;
      });
      s.on('close', () => {
        if (final) {
          finish(final);
          return;
        }
        if (httpCode === undefined && s.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM && retry()) return;
        if (s.rstCode !== undefined && s.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
          finish(this.broken(`the stream was reset (HTTP/2 error ${s.rstCode})`, streamError));
          return;
        }
        if (httpCode === undefined) {
          finish(this.broken('the connection closed before the server answered', streamError));
          return;
        }
        if (httpCode !== 200) {
          finish(httpStatus(httpCode));
          return;
        }
        finish({
          code: reader.partial ? 'INTERNAL' : 'UNKNOWN',
          details: reader.partial ? 'the stream ended inside a message' : 'No status received',
        });
      });
      s.end(body);
    };

    if (timeoutMs !== undefined) {
      timer = setTimeout(() => abort({ code: 'DEADLINE_EXCEEDED', details: 'Deadline exceeded' }), timeoutMs);
    }
    send();
    return {
      cancel: (st = { code: 'CANCELLED', details: 'Cancelled on client' }) => abort(st),
      pause: () => stream?.pause(),
      resume: () => stream?.resume(),
    };
  }

  /** UNAVAILABLE for a call the connection failed under, with the socket's error when known. */
  private broken(what: string, streamError: unknown): CallStatus {
    const cause = this.sessionError ?? streamError;
    const details = cause instanceof Error ? cause.message : what;
    return { code: 'UNAVAILABLE', details, cause };
  }

  /** Keeps the process alive while calls are in flight, and only then. */
  private ref(delta: number): void {
    this.active += delta;
    if (this.active > 0) this.session?.ref();
    else this.session?.unref();
  }

  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }
}

/** A gRPC length-prefixed message: flag 0 (uncompressed), big-endian length, bytes. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}
