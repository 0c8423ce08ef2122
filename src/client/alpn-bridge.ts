import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type { UpgradeTarget } from './conn-upgrade.js';
import { CLOSED_AFTER_HANDSHAKE, classifyConnectError, RpcError } from './errors.js';

/** ALPN value that asks a Teleport Proxy (TLS routing) for the Auth Service of `cluster`. */
export function authAlpnProtocol(cluster: string): string {
  return `teleport-auth@${Buffer.from(cluster, 'utf8').toString('hex')}.teleport.cluster.local`;
}

export interface AlpnBridgeOptions {
  /** Proxy host (no brackets for IPv6). */
  host: string;
  port: number;
  /** SNI and the name the server certificate must carry. */
  serverName: string;
  clusterName: string;
  certPem: string;
  keyPem: string;
  caPems: string[];
  /** Who is reached, for messages: `the Auth Service through the Proxy at proxy:443`. */
  endpoint: string;
  /** Bound on one TLS handshake with the Proxy; default 15s. */
  handshakeTimeoutMs?: number;
  /** How to get past an L7 load balancer in front of the Proxy; see {@link ConnUpgradeOptions}. */
  connUpgrade?: ConnUpgradeOptions;
}

/** Whether and how connections go through the Proxy's web API connection upgrade. */
export interface ConnUpgradeOptions {
  /**
   * true: always upgrade (TELEPORT_TLS_ROUTING_CONN_UPGRADE or the profile said so);
   * false: never; undefined: dial the ALPN route directly and, when that handshake fails,
   * ask {@link probeConnUpgradeRequired} whether TLS ends in front of Teleport, then
   * upgrade from there on.
   */
  required?: boolean;
  /** CAs for the load balancer's certificate instead of Node's default roots. */
  rootCaPems?: string[];
  /** `Upgrade: alpn` instead of WebSocket (TELEPORT_TLS_ROUTING_CONN_UPGRADE_MODE=legacy). */
  legacy?: boolean;
  /** Why `required` is set, for the debug line (`TELEPORT_TLS_ROUTING_CONN_UPGRADE`, …). */
  reason?: string;
  /** Receives one line when connections start going through the upgrade. */
  debug?: (line: string) => void;
}

/** A running bridge. The client dials `<socketPath>` and speaks HTTP/2 without TLS to it. */
export interface AlpnBridge {
  socketPath: string;
  /** The ALPN list offered to the Proxy, most preferred first. */
  alpnProtocols: string[];
  /** The last TLS failure towards the Proxy, until a connection succeeds again. */
  lastError(): RpcError | undefined;
  /** Whether connections currently go through the connection upgrade. */
  upgraded(): boolean;
  close(): void;
}

/**
 * Starts the in-process bridge of proxy mode. A Proxy with TLS routing picks the backend
 * by ALPN, and a failed direct handshake may have to be retried through a connection
 * upgrade without losing the client's first bytes; so the client talks h2c to a private
 * unix socket (in a fresh 0700 directory) and every
 * connection accepted there is carried over mTLS to the Proxy with
 * `teleport-auth@<hex(cluster)>.teleport.cluster.local` offered first. Server
 * verification stays on: the Proxy forwards the TLS bytes to the Auth Service, whose
 * certificate must chain to our CAs and carry `serverName`.
 */
export async function startAlpnBridge(opts: AlpnBridgeOptions): Promise<AlpnBridge> {
  const alpnProtocols = [authAlpnProtocol(opts.clusterName), 'h2'];
  const handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 15_000;
  const tlsContext = { serverName: opts.serverName, alpn: alpnProtocols[0] };
  // mkdtemp creates the directory with mode 0700, so no other user can reach the socket.
  const dir = mkdtempSync(join(tmpdir(), 'access-alpn-'));
  const socketPath = join(dir, 'auth.sock');
  /** Everything open, so close() leaves nothing that keeps the process alive. */
  const sockets = new Set<net.Socket | Duplex>();
  let lastError: RpcError | undefined;

  const record = (err: unknown) => {
    lastError =
      classifyConnectError(err, opts.endpoint, tlsContext) ??
      new RpcError('UNAVAILABLE', `cannot reach ${opts.endpoint}: ${(err as Error).message}`, {
        cause: err,
      });
  };
  // A Proxy that cannot route the ALPN value (unknown cluster) drops the connection
  // before the Auth Service ever answers the TLS handshake.
  const droppedByProxy = () =>
    new RpcError(
      'UNAVAILABLE',
      `cannot reach ${opts.endpoint}: the Proxy closed the connection during the TLS handshake (check the cluster name ${JSON.stringify(opts.clusterName)})`,
    );

  const target: UpgradeTarget = {
    host: opts.host,
    port: opts.port,
    rootCaPems: opts.connUpgrade?.rootCaPems,
    timeoutMs: handshakeTimeoutMs,
  };
  // IsALPNConnUpgradeRequired bounds its test connection by 5s ("a shorter I/O timeout to
  // avoid blocking caller").
  const probeTarget: UpgradeTarget = { ...target, timeoutMs: Math.min(5_000, handshakeTimeoutMs) };
  let upgrade = opts.connUpgrade?.required === true;
  const mayProbe = opts.connUpgrade?.required === undefined;
  let probed = false;
  const announce = (why: string) =>
    opts.connUpgrade?.debug?.(
      `connection upgrade to ${opts.endpoint} (${opts.connUpgrade.legacy ? 'legacy Upgrade: alpn' : 'WebSocket alpn-ping'}): ${why}`,
    );
  if (upgrade) announce(opts.connUpgrade?.reason ?? 'required');
  const innerTls = (socket?: Duplex): tls.ConnectionOptions => ({
    ...(socket ? { socket } : { host: opts.host, port: opts.port }),
    servername: opts.serverName,
    ALPNProtocols: alpnProtocols,
    ca: opts.caPems,
    cert: opts.certPem,
    key: opts.keyPem,
    rejectUnauthorized: true,
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(opts.serverName, cert),
  });

  /**
   * Carries one accepted connection to the Proxy. The client's first bytes wait in `local`
   * (nothing reads it) until the routed TLS is up, so a direct attempt that fails during
   * the handshake can be retried through the upgrade without losing anything.
   */
  const carry = async (local: net.Socket, localClosed: () => boolean, afterProbe = false) => {
    let remote: tls.TLSSocket;
    if (upgrade) {
      try {
        // ws is loaded only when a connection is upgraded.
        const { openUpgradeTunnel } = await import('./conn-upgrade.js');
        const tunnel = await openUpgradeTunnel(target, opts.endpoint, opts.connUpgrade?.legacy === true);
        if (localClosed()) {
          tunnel.destroy();
          return;
        }
        sockets.add(tunnel);
        tunnel.once('close', () => sockets.delete(tunnel));
        remote = tls.connect(innerTls(tunnel));
        remote.once('close', () => tunnel.destroy());
      } catch (err) {
        // An upgrade only the probe asked for says less than the direct failure before it
        // (kept in lastError); that one stays, and later connections go direct again.
        if (afterProbe) upgrade = false;
        else lastError = err as RpcError;
        local.destroy();
        return;
      }
    } else {
      remote = tls.connect(innerTls());
    }
    sockets.add(remote);
    let failed = false;
    let handshakeDone = false;
    let answered = false;
    const timer = setTimeout(() => {
      remote.destroy(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' }));
    }, handshakeTimeoutMs);
    /** A direct handshake failed: ask once whether TLS ends in front of Teleport. */
    const retryUpgraded = async (): Promise<boolean> => {
      if (upgrade || !mayProbe || probed || localClosed()) return upgrade && !localClosed();
      probed = true;
      const { probeConnUpgradeRequired } = await import('./conn-upgrade.js');
      upgrade = await probeConnUpgradeRequired(probeTarget);
      if (upgrade)
        announce('the direct handshake failed and the probe found TLS ending in front of Teleport');
      return upgrade && !localClosed();
    };
    remote.once('secureConnect', () => {
      handshakeDone = true;
      clearTimeout(timer);
      local.pipe(remote);
      remote.pipe(local);
      remote.once('data', () => {
        answered = true;
        lastError = undefined;
      });
    });
    remote.on('error', async (err: NodeJS.ErrnoException) => {
      failed = true;
      if (!handshakeDone && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) lastError = droppedByProxy();
      else record(err);
      if (!handshakeDone && !upgrade && (await retryUpgraded())) {
        void carry(local, localClosed, true);
        return;
      }
      local.destroy();
    });
    remote.on('close', () => {
      clearTimeout(timer);
      sockets.delete(remote);
      if (failed) return;
      if (!answered && !localClosed()) {
        if (handshakeDone) record(Object.assign(new Error('closed'), { code: CLOSED_AFTER_HANDSHAKE }));
        else lastError = droppedByProxy();
      }
      local.destroy();
    });
    local.on('close', () => remote.destroy());
  };

  const server = net.createServer((local) => {
    sockets.add(local);
    let closed = false;
    local.on('error', () => local.destroy());
    local.on('close', () => {
      closed = true;
      sockets.delete(local);
    });
    void carry(local, () => closed);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    socketPath,
    alpnProtocols,
    lastError: () => lastError,
    upgraded: () => upgrade,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
      sockets.clear();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
