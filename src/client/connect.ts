import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { type ChannelOptions, Client, credentials as grpcCredentials } from '@grpc/grpc-js';
import { Empty } from '../gen/google/protobuf/empty.js';
import {
  CreateAccessMonitoringRuleRequest,
  DeleteAccessMonitoringRuleRequest,
  GetAccessMonitoringRuleRequest,
  ListAccessMonitoringRulesRequest,
  ListAccessMonitoringRulesWithFilterRequest,
  UpdateAccessMonitoringRuleRequest,
  UpsertAccessMonitoringRuleRequest,
} from '../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules.js';
import { AccessMonitoringRulesServiceService } from '../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules_service.js';
import { KubeServiceService, ListKubernetesResourcesRequest } from '../gen/teleport/kube/v1/kube_service.js';
import {
  AuthServiceService,
  ListAccessRequestsRequest,
  ListResourcesRequest,
  ListUnifiedResourcesRequest,
  PingRequest,
  RequestID,
  RequestStateSetter,
  UserCertsRequest,
  Watch,
} from '../gen/teleport/legacy/client/proto/authservice.js';
import {
  AccessCapabilitiesRequest,
  AccessRequestFilter,
  AccessRequestV3,
  AccessReviewSubmission,
} from '../gen/teleport/legacy/types/types.js';
import type { Credentials, TeleportIdentity } from '../identity/types.js';
import { parseIdentity } from '../identity/x509.js';
import { AccessError, UsageError } from '../model/errors.js';
import { toIsoOrNull } from '../model/time.js';
import { type AlpnBridge, startAlpnBridge } from './alpn-bridge.js';
import { classifyConnectError, type RpcError } from './errors.js';
import { probeTls } from './probe.js';
import { createTypedClient, type RequestFactories, type TypedClient } from './rpc.js';

/** Teleport's API server name; every Auth Service certificate carries it as a DNS SAN. */
export const DEFAULT_TLS_SERVER_NAME = 'teleport.cluster.local';
export const DEFAULT_AUTH_PORT = 3025;
export const DEFAULT_PROXY_PORT = 443;
export const DEFAULT_RPC_TIMEOUT_MS = 30_000;

/**
 * Keepalive pings. Teleport's auth gRPC server (lib/auth/grpcserver.go, NewGRPCServer)
 * enforces keepalive.EnforcementPolicy{MinTime: KeepAlivePeriod, PermitWithoutStream:
 * true}, and KeepAlivePeriod defaults to apidefaults.ServerKeepAliveTTL() = 60s
 * (lib/auth/apiserver.go, APIConfig.CheckAndSetDefaults). A client pinging more often
 * than that collects strikes and is sent GOAWAY too_many_pings. 90s keeps a margin over
 * the 60s floor while still noticing a dead connection within two minutes.
 */
const KEEPALIVE_TIME_MS = 90_000;
const KEEPALIVE_TIMEOUT_MS = 20_000;

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
  /** Receives one line per RPC (method, duration, status). */
  debug?: (line: string) => void;
  now?: () => Date;
}

/** An open channel to the Auth Service with typed clients. */
export interface Connection {
  auth: TypedClient<typeof AuthServiceService>;
  kube: TypedClient<typeof KubeServiceService>;
  amr: TypedClient<typeof AccessMonitoringRulesServiceService>;
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
 * The request message of every AuthService method. The compiler rejects an entry that
 * lacks a field of the method's request; test/unit/client/rpc.test.ts rejects one with
 * extra fields.
 */
export const AUTH_REQUESTS: RequestFactories<typeof AuthServiceService> = {
  ping: PingRequest,
  getAccessRequestsV2: AccessRequestFilter,
  listAccessRequests: ListAccessRequestsRequest,
  createAccessRequestV2: AccessRequestV3,
  deleteAccessRequest: RequestID,
  setAccessRequestState: RequestStateSetter,
  submitAccessReview: AccessReviewSubmission,
  getAccessCapabilities: AccessCapabilitiesRequest,
  watchEvents: Watch,
  listResources: ListResourcesRequest,
  listUnifiedResources: ListUnifiedResourcesRequest,
  generateUserCerts: UserCertsRequest,
  getCurrentUser: Empty,
  getCurrentUserRoles: Empty,
  getDomainName: Empty,
  getClusterCaCert: Empty,
};

export const KUBE_REQUESTS: RequestFactories<typeof KubeServiceService> = {
  listKubernetesResources: ListKubernetesResourcesRequest,
};

export const AMR_REQUESTS: RequestFactories<typeof AccessMonitoringRulesServiceService> = {
  createAccessMonitoringRule: CreateAccessMonitoringRuleRequest,
  updateAccessMonitoringRule: UpdateAccessMonitoringRuleRequest,
  upsertAccessMonitoringRule: UpsertAccessMonitoringRuleRequest,
  getAccessMonitoringRule: GetAccessMonitoringRuleRequest,
  deleteAccessMonitoringRule: DeleteAccessMonitoringRuleRequest,
  listAccessMonitoringRules: ListAccessMonitoringRulesRequest,
  listAccessMonitoringRulesWithFilter: ListAccessMonitoringRulesWithFilterRequest,
};

/** A parsed `host:port`. `address` is what grpc-js dials (IPv6 in brackets). */
export interface HostPort {
  host: string;
  port: number;
  address: string;
}

/**
 * Parses `host`, `host:port`, `[v6]`, `[v6]:port` (a leading `https://` and a trailing
 * `/` are tolerated, as users paste proxy URLs), filling in `defaultPort`.
 */
export function parseHostPort(input: string, defaultPort: number, flag: string): HostPort {
  const s = input
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/+$/, '');
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
  } else if ((s.match(/:/g) ?? []).length > 1) {
    host = s; // a bare IPv6 address
  } else {
    const i = s.lastIndexOf(':');
    host = i < 0 ? s : s.slice(0, i);
    portText = i < 0 ? undefined : s.slice(i + 1);
  }
  if (host === '') throw new UsageError(`invalid ${flag} ${JSON.stringify(input)}: missing the host`);
  let port = defaultPort;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      throw new UsageError(`invalid ${flag} ${JSON.stringify(input)}: port must be a number from 1 to 65535`);
    }
  }
  return { host, port, address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}` };
}

/** The cluster to route to when none was given (see {@link ConnectOptions.clusterName}). */
export function clusterFromCredentials(creds: Credentials, identity: TeleportIdentity): string | undefined {
  if (creds.source.kind === 'tsh-profile' && creds.source.cluster) return creds.source.cluster;
  return identity.teleportCluster || identity.routeToCluster || issuerCommonName(creds.certPem);
}

function issuerCommonName(certPem: string): string | undefined {
  try {
    const line = new X509Certificate(certPem).issuer.split('\n').find((l) => l.startsWith('CN='));
    return line?.slice(3) || undefined;
  } catch {
    return undefined;
  }
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
  const channelOptions: ChannelOptions = {
    'grpc.default_authority': serverName,
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.keepalive_permit_without_calls': 1,
    // grpc-js backs off up to 120s between reconnects by default; a wait that outlives a
    // server restart should not sit out minutes after the server is back.
    'grpc.initial_reconnect_backoff_ms': 250,
    'grpc.max_reconnect_backoff_ms': 5_000,
  };

  let client: Client;
  let address: string;
  let endpoint: string;
  let clusterName = opts.clusterName;
  let bridge: AlpnBridge | undefined;
  let diagnose: () => Promise<RpcError | undefined>;

  if (opts.authServer) {
    const hp = parseHostPort(opts.authServer, DEFAULT_AUTH_PORT, '--auth-server');
    address = hp.address;
    endpoint = `the Auth Service at ${address}`;
    clusterName ??= clusterFromCredentials(creds, identity);
    const checkServerIdentity = (_host: string, cert: tls.PeerCertificate) =>
      tls.checkServerIdentity(serverName, cert);
    const channelCredentials = grpcCredentials.createSsl(
      Buffer.from(creds.caPems.join('\n')),
      Buffer.from(creds.keyPem),
      Buffer.from(creds.certPem),
      { checkServerIdentity },
    );
    client = new Client(address, channelCredentials, {
      ...channelOptions,
      'grpc.ssl_target_name_override': serverName,
    });
    const probeOptions: tls.ConnectionOptions = {
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
    diagnose = async () => {
      const err = await probeTls(probeOptions, PROBE_TIMEOUT_MS);
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
    bridge = await startAlpnBridge({
      host: hp.host,
      port: hp.port,
      serverName,
      clusterName,
      certPem: creds.certPem,
      keyPem: creds.keyPem,
      caPems: creds.caPems,
      endpoint,
    });
    client = new Client(`unix:${bridge.socketPath}`, grpcCredentials.createInsecure(), channelOptions);
    const b = bridge;
    diagnose = async () => b.lastError();
  } else {
    throw new UsageError(
      'no Auth Service address',
      'pass --auth-server HOST:PORT or --proxy HOST:PORT (or set ACCESS_AUTH_SERVER)',
    );
  }

  const ctx = { client, rpcTimeoutMs, endpoint, debug: opts.debug, diagnose };
  let closed = false;
  return {
    auth: createTypedClient(AuthServiceService, AUTH_REQUESTS, ctx),
    kube: createTypedClient(KubeServiceService, KUBE_REQUESTS, ctx),
    amr: createTypedClient(AccessMonitoringRulesServiceService, AMR_REQUESTS, ctx),
    credentials: creds,
    identity,
    address,
    clusterName,
    rpcTimeoutMs,
    close: () => {
      if (closed) return;
      closed = true;
      client.close();
      bridge?.close();
    },
  };
}
