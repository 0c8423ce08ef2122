/**
 * `access server`: the embedded Teleport-compatible Auth API. {@link startServer} prepares
 * (or reuses) a data directory, serves `proto.AuthService`, `teleport.users.v1.UsersService` and `teleport.kube.v1.KubeService`
 * over mTLS, and returns a handle to stop it.
 */

import { basename, resolve as resolvePath } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { AccessMonitor } from './access-monitor.js';
import { createAmrService } from './amr-service.js';
import { writeIdentityFile } from './certs.js';
import {
  ClusterFile,
  clusterInfoProblem,
  dataDir,
  identityPath,
  readClusterInfo,
  writeServerInfo,
} from './datadir.js';
import { WatchHub } from './events.js';
import {
  AccessMonitoringRulesServiceService,
  AuthServiceService,
  KubeServiceService,
  UsersServiceService,
} from './grpc-definitions.js';
import {
  checkListenable,
  hostIdentityName,
  identitySpec,
  listenError,
  parseListen,
  prepareDataDir,
} from './init.js';
import { createKubeService } from './kube-service.js';
import { createAuthService, type ServiceDeps, sweepExpired } from './service.js';
import { RuleStore } from './storage/amr-store.js';
import { removeStaleReplacements } from './storage/durable-file.js';
import { LockStore } from './storage/lock-store.js';
import { RequestStore, type StoreOptions } from './storage/store.js';
import type { Damage } from './storage/store-log.js';
import { notFound, ServerError } from './types.js';
import { createUsersService } from './users-service.js';

export interface StartServerOptions {
  dataDir: string;
  /** `HOST:PORT`; port 0 picks a free port. IPv6 hosts in brackets (`[::1]:0`). */
  listen: string;
  /** Seed YAML, used on first start only; the built-in demo seed when omitted. */
  seedFile?: string;
  /** Cluster name on first start (default `local`); must match on later starts when given. */
  clusterName?: string;
  log?: (line: string) => void;
  /** Problems an operator must see whatever the log level (a damaged request log). */
  warn?: (line: string) => void;
  now?: () => Date;
  /** How often expired requests are swept (default 1000 ms). */
  sweepIntervalMs?: number;
  /** How long a client has to complete the TLS handshake after connecting (default 15 s). */
  tlsHandshakeTimeoutMs?: number;
  /** How long a connection may stay open without a call before it is closed (default 5 min). */
  idleConnectionMs?: number;
}

export interface RunningServer {
  /** `HOST:PORT` actually bound. */
  addr: string;
  clusterName: string;
  dataDir: string;
  /** Where the identity file of a seeded user is. */
  identityPath(user: string): string;
  /**
   * Writes an identity file for `user` as `tctl auth sign --user=USER` run on the Auth host
   * makes one: it carries the host identity as impersonator, so (as in Teleport) it can
   * list and review but never assume a request.
   */
  signIdentity(user: string, path: string): Promise<void>;
  /**
   * Resolves once the access monitor has no automatic review under way: reviews follow a
   * request's PUT event, after its writer was answered (access-monitor.ts).
   */
  reviewsSettled(): Promise<void>;
  /**
   * Stops accepting calls, ends watch streams, lets in-flight calls finish for up to
   * `graceMs` (default 5000) before cutting them off, then flushes and closes the store.
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
}

export { parseListen } from './init.js';

/**
 * Teleport's TLS listeners give a connecting client this long to complete the handshake
 * (lib/multiplexer/tls.go: TLSListenerConfig.ReadDeadline, defaulting to lib/defaults
 * HandshakeReadDeadline = 15 s); a socket that sends nothing, or half a ClientHello, is then
 * closed instead of being held open forever.
 */
const TLS_HANDSHAKE_TIMEOUT_MS = 15_000;
/** A connection without a call for this long is closed (GOAWAY); clients reconnect on demand. */
const IDLE_CONNECTION_MS = 5 * 60_000;

/**
 * grpc-js's mTLS credentials (createSsl) plus a TLS handshake deadline: its server
 * constructor options are passed to http2.createSecureServer, whose `handshakeTimeout`
 * bounds the time from accept to a finished handshake.
 */
class HandshakeBoundedCredentials extends grpc.ServerCredentials {
  constructor(base: grpc.ServerCredentials, handshakeTimeout: number) {
    super(
      { ...base._getConstructorOptions(), handshakeTimeout },
      base._getSecureContextOptions() ?? undefined,
    );
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

function damageWarning(d: Damage, what = 'request log'): string {
  const ranges = d.ranges.length === 1 ? '1 damaged range' : `${d.ranges.length} damaged ranges`;
  return (
    `warning: ${what} damaged: ${d.recovered} record${d.recovered === 1 ? '' : 's'} recovered, ` +
    `${d.bytes} byte${d.bytes === 1 ? '' : 's'} in ${ranges} not replayable` +
    (d.foreign > 0
      ? ` (${d.foreign} record${d.foreign === 1 ? '' : 's'} of another data directory's log, never replayed here)`
      : '') +
    `, copied to ${d.copiedTo}`
  );
}

/** Starts the server; resolves once it is listening and `DIR/server.json` names its address. */
export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  const warn = opts.warn ?? log;
  const now = opts.now ?? (() => new Date());
  const { host } = parseListen(opts.listen);
  // Inputs first: a bad address, seed or name is refused before anything is written.
  await checkListenable(opts.listen);
  const prepared = await prepareDataDir({
    root: resolvePath(opts.dataDir),
    seedFile: opts.seedFile,
    clusterName: opts.clusterName,
    now,
    log,
    warn,
  });
  const { dir, clusterName, policy, certs, cluster, release } = prepared;
  let store: RequestStore | undefined;
  let lockStore: LockStore | undefined;
  let ruleStore: RuleStore | undefined;
  let server: grpc.Server | undefined;
  try {
    for (const name of await removeStaleReplacements(dir.root))
      log(`removed ${name}, left by a server that stopped while replacing a file`);
    const openedStore = await RequestStore.open(dir.requestsLog, {
      record: cluster.log(basename(dir.requestsLog)),
      log,
      onDamage: (d) => warn(damageWarning(d)),
    });
    store = openedStore;
    const locks = await LockStore.open(dir.locksLog, {
      record: cluster.log(basename(dir.locksLog)),
      legacyPath: dir.legacyLocksJson,
      log,
      onDamage: (d) => warn(damageWarning(d, 'lock log')),
    });
    lockStore = locks;
    const hub = new WatchHub();
    openedStore.onCommit((c) => hub.publish(c));
    const rules = await RuleStore.open(dir.rulesLog, {
      record: cluster.log(basename(dir.rulesLog)),
      legacyPath: dir.legacyRulesFile,
      log,
      onDamage: (d) => warn(damageWarning(d, 'access monitoring rule log')),
    });
    ruleStore = rules;
    rules.onCommit((c) => hub.publishRule(c));
    const deps: ServiceDeps = { policy, store: openedStore, locks, rules, hub, certs, now, log };
    const monitor = new AccessMonitor({ ...deps, rules });
    openedStore.onCommit((c) => monitor.onCommit(c));

    const grpcServer = new grpc.Server({
      // Clients keep watch streams open for hours and ping every 30s or more.
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.max_connection_idle_ms': opts.idleConnectionMs ?? IDLE_CONNECTION_MS,
    });
    server = grpcServer;
    grpcServer.addService(AuthServiceService, createAuthService(deps));
    grpcServer.addService(KubeServiceService, createKubeService(deps));
    grpcServer.addService(UsersServiceService, createUsersService(deps));
    grpcServer.addService(AccessMonitoringRulesServiceService, createAmrService({ ...deps, rules }));
    const creds = new HandshakeBoundedCredentials(
      grpc.ServerCredentials.createSsl(
        Buffer.from(certs.userCa.certPem),
        [{ cert_chain: Buffer.from(certs.serverCertPem), private_key: Buffer.from(certs.serverKeyPem) }],
        true,
      ),
      opts.tlsHandshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS,
    );
    const port = await bind(grpcServer, opts.listen, creds).catch((err: unknown) => {
      // grpc-js wraps the socket error ("No address added out of total 1 resolved").
      const cause = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN)\b/.exec(String(err))?.[1];
      throw listenError(opts.listen, { code: cause }) ?? err;
    });
    const addr = `${host}:${port}`;
    await writeServerInfo(dir, { addr, cluster: clusterName });

    let sweeping: Promise<unknown> | undefined;
    const sweeper = setInterval(() => {
      if (sweeping) return;
      sweeping = sweepExpired(openedStore, now())
        .then((n) => {
          if (n > 0) log(`removed ${n} expired access request${n === 1 ? '' : 's'}`);
        })
        .catch((err: unknown) => log(`expiry sweep failed: ${(err as Error).message}`))
        .finally(() => {
          sweeping = undefined;
        });
    }, opts.sweepIntervalMs ?? 1000);
    sweeper.unref();

    let stopping: Promise<void> | undefined;
    const stop = (stopOpts: { graceMs?: number } = {}): Promise<void> => {
      stopping ??= (async () => {
        clearInterval(sweeper);
        const drained = new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            grpcServer.forceShutdown();
            resolve();
          }, stopOpts.graceMs ?? 5000);
          grpcServer.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        // Watch streams never end on their own; end them so the drain can finish.
        hub.closeAll(new ServerError(status.UNAVAILABLE, 'server is shutting down'));
        await drained;
        await sweeping;
        await monitor.idle();
        await openedStore.close();
        await lockStore?.close();
        await ruleStore?.close();
        await release();
        log('server stopped');
      })();
      return stopping;
    };

    return {
      addr,
      clusterName,
      dataDir: dir.root,
      identityPath: (user: string) => identityPath(dir, user),
      async signIdentity(user: string, path: string) {
        const found = policy.user(user);
        if (!found) throw notFound(`user "${user}" not found`);
        await writeIdentityFile(path, certs, identitySpec(found, policy, now(), hostIdentityName(certs)));
      },
      reviewsSettled: () => monitor.idle(),
      stop,
    };
  } catch (err) {
    server?.forceShutdown();
    await store?.close().catch(() => undefined);
    await lockStore?.close().catch(() => undefined);
    await ruleStore?.close().catch(() => undefined);
    await release();
    throw err;
  }
}

export { readServerInfo, type ServerInfo } from './datadir.js';

/**
 * Opens the request store of a stopped server's data directory as the server does (its ID and
 * recorded length from cluster.json), for tools and tests that read or fill it directly.
 */
export async function openRequestStore(root: string, opts: StoreOptions = {}): Promise<RequestStore> {
  const dir = dataDir(resolvePath(root));
  const info = await readClusterInfo(dir);
  const problem = info ? clusterInfoProblem(info) : 'missing';
  if (!info || problem) throw new Error(`${dir.clusterJson} is damaged (${problem})`);
  const cluster = await ClusterFile.load(dir, info);
  return RequestStore.open(dir.requestsLog, { ...opts, record: cluster.log(basename(dir.requestsLog)) });
}
