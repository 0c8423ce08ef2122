import * as net from 'node:net';
import * as tls from 'node:tls';
import { AuthServiceDefinition } from '../gen/teleport/legacy/client/proto/authservice.js';
import { parseIdentity } from '../identity/certificate.js';
import { issuerCommonName } from '../identity/pem.js';
import type { Credentials, TeleportIdentity } from '../identity/types.js';
import { parseHostPort } from '../model/address.js';
import { DEFAULT_RPC_TIMEOUT_MS } from '../model/duration.js';
import { AccessError, UsageError } from '../model/errors.js';
import { toIsoOrNull } from '../model/time.js';
import type { AlpnBridge } from './alpn-bridge.js';
import { connUpgradeRequiredByEnv } from './conn-upgrade-env.js';
import { classifyConnectError, type RpcError } from './errors.js';
import { Channel } from './grpc-wire.js';
import { probeTls } from './probe.js';

export { type HostPort, parseHostPort } from '../model/address.js';

import { createTypedClient, type ServiceDefinition, type TypedClient } from './rpc.js';

/** Teleport's API server name; every Auth Service certificate carries it as a DNS SAN. */
export const DEFAULT_TLS_SERVER_NAME = 'teleport.cluster.local';
export const DEFAULT_AUTH_PORT = 3025;
export const DEFAULT_PROXY_PORT = 443;
export { DEFAULT_RPC_TIMEOUT_MS };

/**
 * Receive limit of one message. gRPC's default of 4 MiB is what a Teleport page of big
 * requests or resources outgrows; past this larger bound a lister still halves its page on
 * RESOURCE_EXHAUSTED (client/list.ts, paginate).
 */
export const MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Bound on the TLS probe that explains a connection failure. */
const PROBE_TIMEOUT_MS = 3_000;

export interface ConnectOptions {
  /** Auth Service gRPC address, `host[:port]` (port 3025 by default). Wins over `proxy`. */
  authServer?: string;
  /** Proxy with TLS routing, `host[:port]` (port 443 by default). */
  proxy?: string;
  credentials: Credentials;
  /** Name the server certificate must carry; default `teleport.cluster.local`. */
  tlsServerName?: string;
  /**
   * Cluster whose Auth Service the Proxy should route to (ALPN). Default: the tsh
   * profile's cluster, else the certificate's TeleportCluster/RouteToCluster, else the
   * issuer CN of the client certificate (Teleport names its CAs after the cluster).
   */
  clusterName?: string;
  /** Default deadline of unary calls, ms; default 30000. */
  rpcTimeoutMs?: number;
  /** Proxy mode behind an L7 load balancer: what the environment says (see {@link ConnUpgradeSettings}). */
  connUpgrade?: ConnUpgradeSettings;
  /** Receives one line per RPC (method, duration, status). */
  debug?: (line: string) => void;
  now?: () => Date;
}

/** The environment's say on the connection upgrade (api/client/alpn_conn_upgrade.go). */
export interface ConnUpgradeSettings {
  /** TELEPORT_TLS_ROUTING_CONN_UPGRADE as set. */
  env?: string;
  /** TELEPORT_TLS_ROUTING_CONN_UPGRADE_MODE as set; `legacy` asks for `Upgrade: alpn`. */
  mode?: string;
  /** The contents of SSL_CERT_FILE: the roots for the load balancer's certificate. */
  rootCaPems?: string[];
}

/** An open channel to the Auth Service with typed clients. */
export interface Connection {
  auth: TypedClient<typeof AuthServiceDefinition>;
  /**
   * The typed client of another service on the same channel (KubeService, Access Monitoring
   * Rules): its definition comes from the caller, so the generated code of a service loads
   * only in the commands that call it.
   */
  service<S extends ServiceDefinition>(definition: S): TypedClient<S>;
  credentials: Credentials;
  /** The identity of the client certificate used. */
  identity: TeleportIdentity;
  /** `host:port` dialled: the Auth Service, or the Proxy in proxy mode. */
  address: string;
  /** Cluster name used for ALPN routing (proxy mode), or the best guess from the credentials. */
  clusterName?: string;
  /** Default deadline of unary calls, ms. */
  rpcTimeoutMs: number;
  close(): void;
}

/**
 * The cluster to route to when none was given (see {@link ConnectOptions.clusterName}): the
 * root, the cluster that issued the certificate, as tsh sends every access-request call there
 * (`WithRootClusterClient`) whatever leaf a profile has selected.
 */
export function clusterFromCredentials(creds: Credentials, identity: TeleportIdentity): string | undefined {
  const root = creds.source.kind === 'tsh-profile' ? creds.source.rootCluster : undefined;
  return root || identity.teleportCluster || issuerCommonName(creds.certPem) || identity.routeToCluster;
}

/**
 * Refuses a certificate that is outside its validity window before any connection is
 * made: the server would only answer with a handshake failure that says less.
 */
export function assertCertificateCurrent(identity: TeleportIdentity, now: Date): void {
  const reissue = 're-issue it (tsh login, tctl auth sign)';
  if (identity.expires.getTime() <= now.getTime()) {
    throw new AccessError(
      'permission',
      `certificate for ${JSON.stringify(identity.username)} expired at ${toIsoOrNull(identity.expires)}; ${reissue}`,
    );
  }
  if (identity.notBefore.getTime() > now.getTime()) {
    throw new AccessError(
      'permission',
      `certificate for ${JSON.stringify(identity.username)} is not valid before ${toIsoOrNull(identity.notBefore)}; check the system clock or ${reissue}`,
    );
  }
}

/**
 * Opens a connection to the Auth Service, directly (`authServer`) or through a Proxy with
 * TLS routing (`proxy`). The channel connects lazily: connection errors surface on the
 * first call, as RpcErrors with one-line messages.
 */
export async function connect(opts: ConnectOptions): Promise<Connection> {
  const creds = opts.credentials;
  const identity = parseIdentity(creds.certPem);
  assertCertificateCurrent(identity, opts.now?.() ?? new Date());
  if (creds.caPems.length === 0) {
    throw new UsageError('the credentials carry no CA certificate to verify the server with', 'pass --ca');
  }
  const serverName = opts.tlsServerName ?? DEFAULT_TLS_SERVER_NAME;
  const rpcTimeoutMs = opts.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;

  let dial: () => net.Socket;
  let address: string;
  let endpoint: string;
  let clusterName = opts.clusterName;
  let bridge: AlpnBridge | undefined;
  let diagnose: (cause: unknown) => Promise<RpcError | undefined>;

  if (opts.authServer) {
    const hp = parseHostPort(opts.authServer, DEFAULT_AUTH_PORT, '--auth-server');
    address = hp.address;
    endpoint = `the Auth Service at ${address}`;
    clusterName ??= clusterFromCredentials(creds, identity);
    const checkServerIdentity = (_host: string, cert: tls.PeerCertificate) =>
      tls.checkServerIdentity(serverName, cert);
    const tlsOptions: tls.ConnectionOptions = {
      host: hp.host,
      port: hp.port,
      servername: serverName,
      ALPNProtocols: ['h2'],
      ca: creds.caPems,
      cert: creds.certPem,
      key: creds.keyPem,
      rejectUnauthorized: true,
      checkServerIdentity,
    };
    dial = () => tls.connect(tlsOptions);
    // The socket's own error names most failures; a server that refuses the client
    // certificate by closing after the handshake is told apart by a probe.
    diagnose = async (cause) => {
      const known = cause === undefined ? undefined : classifyConnectError(cause, endpoint, { serverName });
      if (known) return known;
      const err = await probeTls(tlsOptions, PROBE_TIMEOUT_MS);
      return err ? classifyConnectError(err, endpoint, { serverName }) : undefined;
    };
  } else if (opts.proxy) {
    const hp = parseHostPort(opts.proxy, DEFAULT_PROXY_PORT, '--proxy');
    address = hp.address;
    endpoint = `the Auth Service through the Proxy at ${address}`;
    clusterName ??= clusterFromCredentials(creds, identity);
    if (!clusterName) {
      throw new UsageError(
        'cannot tell which cluster to reach through the Proxy: the credentials name none',
        'use a tsh profile or an identity file issued by the cluster',
      );
    }
    // tsh: the variable overrides the profile (OverwriteALPNConnUpgradeRequirementByEnv),
    // the profile records what the probe found at login; without either, probe on failure.
    const byEnv = connUpgradeRequiredByEnv(opts.connUpgrade?.env, hp.address);
    const byProfile =
      creds.source.kind === 'tsh-profile' && creds.source.tlsRoutingConnUpgradeRequired === true;
    // Only proxy mode needs the bridge (a local socket in front of a raw TLS stream).
    const { startAlpnBridge } = await import('./alpn-bridge.js');
    bridge = await startAlpnBridge({
      host: hp.host,
      port: hp.port,
      serverName,
      clusterName,
      certPem: creds.certPem,
      keyPem: creds.keyPem,
      caPems: creds.caPems,
      endpoint,
      connUpgrade: {
        required: byEnv ?? (byProfile ? true : undefined),
        reason:
          byEnv !== undefined
            ? 'TELEPORT_TLS_ROUTING_CONN_UPGRADE'
            : 'tls_routing_conn_upgrade_required in the tsh profile',
        debug: opts.debug,
        rootCaPems: opts.connUpgrade?.rootCaPems,
        legacy: opts.connUpgrade?.mode?.toLowerCase() === 'legacy',
      },
    });
    const socketPath = bridge.socketPath;
    dial = () => net.connect(socketPath);
    const b = bridge;
    diagnose = async () => b.lastError();
  } else {
    throw new UsageError(
      'no Auth Service address',
      'pass --auth-server HOST:PORT or --proxy HOST:PORT (or set ACCESS_AUTH_SERVER)',
    );
  }

  const channel = new Channel({
    authority: serverName,
    dial,
    maxReceiveMessageBytes: MAX_RECEIVE_MESSAGE_BYTES,
  });
  const ctx = { channel, rpcTimeoutMs, endpoint, debug: opts.debug, diagnose };
  let closed = false;
  const services = new Map<ServiceDefinition, unknown>();
  return {
    auth: createTypedClient(AuthServiceDefinition, ctx),
    service<S extends ServiceDefinition>(definition: S): TypedClient<S> {
      if (!services.has(definition)) services.set(definition, createTypedClient(definition, ctx));
      return services.get(definition) as TypedClient<S>;
    },
    credentials: creds,
    identity,
    address,
    clusterName,
    rpcTimeoutMs,
    close: () => {
      if (closed) return;
      closed = true;
      channel.close();
      bridge?.close();
    },
  };
}
