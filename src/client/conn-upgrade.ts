import * as https from 'node:https';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { createWebSocketStream, WebSocket } from 'ws';
import { CONN_UPGRADE_ENV } from './conn-upgrade-env.js';
import { classifyConnectError, isUntrustedServerError, RpcError } from './errors.js';

/**
 * Reaching a Proxy that sits behind an L7 load balancer. The balancer terminates TLS and
 * strips ALPN, so the `teleport-auth@` route never reaches Teleport; tsh then asks the
 * Proxy's web API for a connection upgrade and runs the routed TLS inside it
 * (api/client/alpn_conn_upgrade.go, alpn_websocket.go).
 */

/** api/constants: WebAPIConnUpgrade. */
export const CONN_UPGRADE_PATH = '/webapi/connectionupgrade';
/**
 * api/constants: WebAPIConnUpgradeTypeALPNPing. The auth client asks for it
 * (api/client/client.go, authConnect: WithALPNConnUpgradePing(true), "Use Ping protocol
 * for long-lived connections"): the Proxy then sends WebSocket pings that keep idle
 * balancers from cutting a wait short.
 */
export const UPGRADE_TYPE_ALPN_PING = 'alpn-ping';
/** api/constants: WebAPIConnUpgradeTypeALPN, what the legacy (non-WebSocket) upgrade asks for. */
export const UPGRADE_TYPE_ALPN = 'alpn';
/** api/constants: ALPNSNIProtocolReverseTunnel, what IsALPNConnUpgradeRequired offers. */
const PROBE_ALPN = 'teleport-reversetunnel';

/** Where the load balancer is and how its certificate is checked. */
export interface UpgradeTarget {
  host: string;
  port: number;
  /**
   * CAs the balancer's certificate must chain to; undefined means Node's default roots.
   * Teleport's outer TLS uses Go's system pool, which SSL_CERT_FILE replaces.
   */
  rootCaPems?: string[];
  timeoutMs: number;
}

function urlHost(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function outerTls(t: UpgradeTarget): tls.ConnectionOptions {
  return {
    ca: t.rootCaPems,
    // An IP literal is not a valid SNI name; Go's tls.Dial leaves it out too.
    servername: /^[\d.]+$|:/.test(t.host) ? undefined : t.host,
    rejectUnauthorized: true,
  };
}

/**
 * IsALPNConnUpgradeRequired (api/client/alpn_conn_upgrade.go): a TLS handshake with the
 * Proxy address offering only `teleport-reversetunnel`, verified against the system roots.
 * Teleport answers it; something in front that terminates TLS negotiates no protocol, or
 * refuses with no_application_protocol, or picks one that was not offered: then an
 * upgrade is required. Any other failure says nothing, and no upgrade is assumed.
 */
export function probeConnUpgradeRequired(t: UpgradeTarget): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (required: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(required);
    };
    const socket = tls.connect({ host: t.host, port: t.port, ...outerTls(t), ALPNProtocols: [PROBE_ALPN] });
    const timer = setTimeout(() => finish(false), t.timeoutMs);
    socket.once('secureConnect', () => finish(socket.alpnProtocol !== PROBE_ALPN));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish(
        err.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' ||
          /unadvertised|no application protocol/i.test(err.message),
      ),
    );
    socket.once('close', () => finish(false));
  });
}

/** Describes a failed upgrade as a one-line, exit-8 error. */
function upgradeError(endpoint: string, what: string, hint?: string, cause?: unknown): RpcError {
  return new RpcError('UNAVAILABLE', `cannot reach ${endpoint}: ${what}`, { hint, cause });
}

function outerFailure(err: unknown, endpoint: string, t: UpgradeTarget): RpcError {
  const lb = `the load balancer at ${urlHost(t.host, t.port)}`;
  if (isUntrustedServerError(err)) {
    return upgradeError(
      endpoint,
      `connection upgrade failed: the certificate of ${lb} is not signed by a trusted CA`,
      "set SSL_CERT_FILE to a CA bundle that includes the load balancer's CA",
      err,
    );
  }
  const classified = classifyConnectError(err, lb, { serverName: t.host });
  const what = classified?.message.replace(/^cannot reach /, '') ?? `${lb}: ${(err as Error).message}`;
  return upgradeError(endpoint, `connection upgrade failed: ${what}`, undefined, err);
}

/**
 * Opens the tunnel: `GET /webapi/connectionupgrade` over HTTPS with a WebSocket upgrade and
 * `Sec-WebSocket-Protocol: alpn-ping` (upgradeConnThroughWebAPI, applyWebSocketUpgradeHeaders),
 * the `ws` library checking the accept key and the subprotocol as
 * checkWebSocketUpgradeResponse does and doing the framing (binary frames, pongs).
 * With `legacy` (TELEPORT_TLS_ROUTING_CONN_UPGRADE_MODE=legacy) it sends
 * `Upgrade: alpn` and `X-Teleport-Upgrade: alpn` and uses the raw connection after 101.
 * Resolves with a byte stream to the Proxy's ALPN router.
 */
export function openUpgradeTunnel(t: UpgradeTarget, endpoint: string, legacy: boolean): Promise<Duplex> {
  const url = `https://${urlHost(t.host, t.port)}${CONN_UPGRADE_PATH}`;
  const refused = (code: number | undefined) =>
    upgradeError(
      endpoint,
      `the Proxy refused the connection upgrade (HTTP ${code ?? '?'} on ${CONN_UPGRADE_PATH})`,
      code === 404
        ? 'the Proxy is too old for connection upgrades; upgrade Teleport, or reach the Auth Service directly with --auth-server'
        : `check that ${urlHost(t.host, t.port)} is the Teleport Proxy, or unset ${CONN_UPGRADE_ENV}`,
    );
  return legacy ? legacyTunnel(t, url, endpoint, refused) : webSocketTunnel(t, url, endpoint, refused);
}

function webSocketTunnel(
  t: UpgradeTarget,
  url: string,
  endpoint: string,
  refused: (code: number | undefined) => RpcError,
): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^https/, 'wss'), [UPGRADE_TYPE_ALPN_PING], {
      ...outerTls(t),
      perMessageDeflate: false,
      handshakeTimeout: t.timeoutMs,
      followRedirects: false,
    });
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(refused(res.statusCode));
    });
    ws.once('error', (err) => reject(outerFailure(err, endpoint, t)));
    ws.once('open', () => {
      const stream = createWebSocketStream(ws);
      // A close frame ends the stream; the inner TLS then reports the close.
      stream.on('error', () => stream.destroy());
      resolve(stream);
    });
  });
}

function legacyTunnel(
  t: UpgradeTarget,
  url: string,
  endpoint: string,
  refused: (code: number | undefined) => RpcError,
): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      ...outerTls(t),
      method: 'GET',
      agent: false,
      timeout: t.timeoutMs,
      headers: {
        Upgrade: UPGRADE_TYPE_ALPN,
        'X-Teleport-Upgrade': UPGRADE_TYPE_ALPN,
        Connection: 'Upgrade',
      },
    });
    req.once('upgrade', (_res, socket: net.Socket, head: Buffer) => {
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('response', (res) => {
      res.resume();
      reject(refused(res.statusCode));
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.once('error', (err) => reject(outerFailure(err, endpoint, t)));
    req.end();
  });
}
