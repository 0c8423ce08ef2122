/**
 * The callback server of `access webhook serve`: HTTPS on `[http] listen_addr`, accepting the
 * teleport-webhooks payload (`{"payload": {"ReqID", "State", "Delegator", "Reason"}}`,
 * access/webhooks/callback_server.go). Unlike the plugin, which set the state directly
 * (SetRequestState, bypassing thresholds), it submits a review as the bridge's identity, so
 * thresholds apply; in `set-state` mode (`callback_sets_state = true`, or picked at start for
 * an identity that may not review, see `mode.ts`) it behaves as the plugin did.
 * Every callback must be signed (X-Access-Signature within the window, never seen before) and,
 * when `[http.basic_auth]` is set, carry those credentials. A signature is remembered by its
 * parsed `(t, v1)` until it leaves the window, so no other spelling of it passes. Bad input
 * gets a 4xx JSON error and changes nothing.
 */
import { timingSafeEqual } from 'node:crypto';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Connection } from '../client/connect.js';
import { getRequest, type Resolution, reviewRequest, setRequestState } from '../client/requests.js';
import { AccessError, type ErrorKind } from '../model/errors.js';
import type { WebhookConfig } from './config.js';
import type { WebhookLog } from './log.js';
import type { CallbackMode } from './mode.js';
import { SIGNATURE_HEADER, verifySignature } from './sign.js';

const MAX_BODY = 64 * 1024;
const STATES: Record<string, Resolution> = { Approved: 'APPROVED', Denied: 'DENIED' };

export interface CallbackServer {
  /** `host:port` bound. */
  addr: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The HTTP status for a failed call to the Auth Service, by error kind; 502 for the rest. */
function httpStatusOf(err: unknown): number {
  if (!(err instanceof AccessError)) return 502;
  const byKind: Partial<Record<ErrorKind, number>> = { permission: 403, 'not-found': 404, usage: 400 };
  return byKind[err.kind] ?? 502;
}

function splitListen(listen: string): { host: string | undefined; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host === '' ? undefined : host, port: Number(listen.slice(i + 1)) };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startCallbackServer(opts: {
  config: WebhookConfig;
  conn: Connection;
  secret: Buffer;
  /** The HTTPS key and certificate (`https_key_file`, `https_cert_file`), read by the caller. */
  tls: { key: Buffer; cert: Buffer };
  mode: CallbackMode;
  log: WebhookLog;
  now?: () => Date;
}): Promise<CallbackServer> {
  const { config, conn, secret, log, mode } = opts;
  const now = () => (opts.now?.() ?? new Date()).getTime() / 1000;
  const window = config.webhook.callbackWindowSeconds;
  /** Signatures already used, until they leave the window. */
  const used = new Map<string, number>();
  const server = https.createServer({ key: opts.tls.key, cert: opts.tls.cert });

  const authorize = (headers: Record<string, string | string[] | undefined>, body: string) => {
    const basic = config.http.basicAuth;
    if (basic) {
      const h = String(headers.authorization ?? '');
      const given = h.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString('utf8') : '';
      if (!sameSecret(given, `${basic.user}:${basic.password}`))
        throw new HttpError(401, 'bad basic auth credentials');
    }
    const sig = headers[SIGNATURE_HEADER];
    // Node joins repeated x- headers with ", ", which the one grammar refuses.
    const header = Array.isArray(sig) ? sig.join(', ') : sig;
    const verdict = verifySignature(secret, body, header, Math.floor(now()), window);
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    for (const [k, t] of used) if (Math.abs(now() - t) > window) used.delete(k);
    if (used.has(verdict.key))
      throw new HttpError(401, 'replayed callback (this signature was already used)');
    used.set(verdict.key, verdict.t);
  };

  const handle = async (
    method: string | undefined,
    path: string | undefined,
    headers: Record<string, string | string[] | undefined>,
    body: string,
  ) => {
    if (method !== 'POST' || (path ?? '/') !== '/') throw new HttpError(404, 'POST / is the only endpoint');
    authorize(headers, body);
    if (config.webhook.notifyOnly) throw new HttpError(403, 'callbacks are off (notify_only)');
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      throw new HttpError(400, 'body is not JSON');
    }
    const payload = (doc as { payload?: unknown })?.payload;
    if (typeof payload !== 'object' || payload === null) throw new HttpError(400, 'missing "payload" object');
    const p = payload as Record<string, unknown>;
    const id = p.ReqID;
    const state = p.State;
    const delegator = p.Delegator ?? '';
    const reason = p.Reason ?? '';
    if (typeof id !== 'string' || id === '') throw new HttpError(400, 'payload.ReqID must be a request ID');
    if (typeof state !== 'string' || !Object.hasOwn(STATES, state)) {
      throw new HttpError(400, 'payload.State must be "Approved" or "Denied"');
    }
    if (typeof delegator !== 'string' || typeof reason !== 'string') {
      throw new HttpError(400, 'payload.Delegator and payload.Reason must be strings');
    }
    const call = { timeoutMs: conn.rpcTimeoutMs };
    const current = await getRequest(conn, id, call);
    if (current.state !== 'PENDING') throw new HttpError(409, `access request ${id} is no longer pending`);
    const why = reason || (delegator ? `${state.toLowerCase()} via webhook callback by ${delegator}` : '');
    if (mode === 'set-state') {
      await setRequestState(
        conn,
        id,
        { state: STATES[state], reason: why, delegator, annotations: {}, roles: [] },
        call,
      );
    } else {
      await reviewRequest(
        conn,
        id,
        { proposal: STATES[state], reason: why, created: opts.now?.() ?? new Date() },
        call,
      );
    }
    log(
      'info',
      `webhook: callback ${state} for ${id}${delegator ? ` by ${JSON.stringify(delegator)}` : ''} (${mode})`,
    );
    return { id, state };
  };

  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      handle(req.method, req.url, req.headers, body).then(
        (result) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(`${JSON.stringify(result)}\n`);
        },
        (err: unknown) => {
          const status = err instanceof HttpError ? err.status : httpStatusOf(err);
          if (!(err instanceof HttpError)) log('warn', `webhook: callback failed: ${(err as Error).message}`);
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(`${JSON.stringify({ error: (err as Error).message })}\n`);
        },
      );
    });
  });

  const { host, port } = splitListen(config.http.listenAddr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    addr: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
