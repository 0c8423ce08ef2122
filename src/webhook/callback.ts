/**
 * The callback server of `access webhook serve`: HTTPS on `[http] listen_addr`, accepting the
 * teleport-webhooks payload (`{"payload": {"ReqID", "State", "Delegator", "Reason"}}`,
 * access/webhooks/callback_server.go). Unlike the plugin, which set the state directly
 * (SetRequestState, bypassing thresholds), it submits a review as the bridge's identity, so
 * thresholds apply; `callback_sets_state = true` restores the plugin's behaviour.
 * Every callback must be signed (X-Access-Signature within the window, never seen before) and,
 * when `[http.basic_auth]` is set, carry those credentials. Bad input gets a 4xx JSON error and
 * changes nothing.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Connection } from '../client/connect.js';
import { AccessError, type ErrorKind } from '../model/errors.js';
import type { WebhookConfig } from './config.js';
import { SIGNATURE_HEADER, verifySignature } from './sign.js';

const MAX_BODY = 64 * 1024;
const STATES: Record<string, number> = { Approved: 2, Denied: 3 };

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
  log: (line: string) => void;
  now?: () => Date;
}): Promise<CallbackServer> {
  const { config, conn, secret, log } = opts;
  const now = () => (opts.now?.() ?? new Date()).getTime() / 1000;
  const window = config.webhook.callbackWindowSeconds;
  /** Signatures already used, until they leave the window. */
  const used = new Map<string, number>();
  const server = https.createServer({
    key: await readFile(config.http.keyFile),
    cert: await readFile(config.http.certFile),
  });

  const authorize = (headers: Record<string, string | string[] | undefined>, body: string) => {
    const basic = config.http.basicAuth;
    if (basic) {
      const h = String(headers.authorization ?? '');
      const given = h.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString('utf8') : '';
      if (!sameSecret(given, `${basic.user}:${basic.password}`))
        throw new HttpError(401, 'bad basic auth credentials');
    }
    const sig = headers[SIGNATURE_HEADER];
    const header = Array.isArray(sig) ? sig[0] : sig;
    const verdict = verifySignature(secret, body, header, Math.floor(now()), window);
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    for (const [k, t] of used) if (Math.abs(now() - t) > window) used.delete(k);
    if (used.has(header!)) throw new HttpError(401, 'replayed callback (this signature was already used)');
    used.set(header!, verdict.t);
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
    let found = false;
    for await (const r of conn.auth.getAccessRequestsV2({ id }, { timeoutMs: conn.rpcTimeoutMs })) {
      if (r.metadata?.name === id) {
        found = true;
        if (r.spec?.state !== 1) throw new HttpError(409, `access request ${id} is no longer pending`);
      }
    }
    if (!found) throw new HttpError(404, `access request ${JSON.stringify(id)} not found`);
    const why = reason || (delegator ? `${state.toLowerCase()} via webhook callback by ${delegator}` : '');
    if (config.webhook.callbackSetsState) {
      await conn.auth.setAccessRequestState({
        id,
        state: STATES[state],
        reason: why,
        delegator,
        annotations: undefined,
        roles: [],
        assumeStartTime: undefined,
      });
    } else {
      await conn.auth.submitAccessReview({
        requestId: id,
        review: {
          author: '',
          roles: [],
          proposedState: STATES[state],
          reason: why,
          created: undefined,
          annotations: undefined,
          thresholdIndexes: [],
          accessList: undefined,
          assumeStartTime: undefined,
        },
      });
    }
    log(`webhook: callback ${state} for ${id}${delegator ? ` by ${delegator}` : ''}`);
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
          if (!(err instanceof HttpError)) log(`webhook: callback failed: ${(err as Error).message}`);
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
