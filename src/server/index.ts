/**
 * `access server`: the embedded Teleport-compatible Auth API. {@link startServer} prepares
 * (or reuses) a data directory, serves `proto.AuthService` and `teleport.kube.v1.KubeService`
 * over mTLS, and returns a handle to stop it.
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AccessMonitoringRulesServiceService } from '../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules_service.js';
import { KubeServiceService } from '../gen/teleport/kube/v1/kube_service.js';
import { AuthServiceService } from '../gen/teleport/legacy/client/proto/authservice.js';
import { parseIdentityFile } from '../identity/identity-file.js';
import { certificateExpiry } from '../identity/x509.js';
import { createAmrService } from './amr-service.js';
import { RULES_FILE, RuleStore } from './amr-store.js';
import { type ClusterCerts, loadOrCreateCerts, type UserCertSpec, writeIdentityFile } from './certs.js';
import {
  type DataDir,
  dataDir,
  ensureDirs,
  identityPath,
  lockDataDir,
  readClusterInfo,
  readStoredSeed,
  writeJson,
  writeServerInfo,
} from './datadir.js';
import { demoSeed } from './demo-seed.js';
import { WatchHub } from './events.js';
import { createKubeService } from './kube-service.js';
import { createPolicy } from './policy.js';
import { loadSeedFile } from './seed.js';
import { createAuthService, loginsFor, type ServiceDeps, sweepExpired } from './service.js';
import { RequestStore } from './store.js';
import { type Policy, type Seed, ServerError, type User } from './types.js';

export interface StartServerOptions {
  dataDir: string;
  /** `HOST:PORT`; port 0 picks a free port. IPv6 hosts in brackets (`[::1]:0`). */
  listen: string;
  /** Seed YAML, used on first start only; the built-in demo seed when omitted. */
  seedFile?: string;
  /** Cluster name on first start (default `local`); must match on later starts when given. */
  clusterName?: string;
  log?: (line: string) => void;
  now?: () => Date;
  /** How often expired requests are swept (default 1000 ms). */
  sweepIntervalMs?: number;
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
   * Stops accepting calls, ends watch streams, lets in-flight calls finish for up to
   * `graceMs` (default 5000) before cutting them off, then flushes and closes the store.
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
}

const DEFAULT_CLUSTER = 'local';
/** Lifetime of the identity files written for seeded users. */
const IDENTITY_TTL_MS = 30 * 24 * 3600 * 1000;
/** An identity file closer than this to its end is re-issued at start. */
const IDENTITY_RENEW_MS = 3600 * 1000;

/** Splits `HOST:PORT` (IPv6 in brackets). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new Error(`invalid listen address "${listen}" (expected HOST:PORT)`);
  return { host: m[1], port };
}

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/** Writes identity files for seeded users that have none, or whose certificate is about to end. */
async function ensureIdentities(
  dir: DataDir,
  seed: Seed,
  policy: Policy,
  certs: ClusterCerts,
  now: Date,
  log: (line: string) => void,
): Promise<void> {
  for (const user of seed.users) {
    const path = identityPath(dir, user.name);
    let expires = 0;
    try {
      expires = certificateExpiry(parseIdentityFile(await readFile(path, 'utf8'), path).certPem).getTime();
    } catch {
      expires = 0;
    }
    if (expires - now.getTime() > IDENTITY_RENEW_MS) continue;
    await writeIdentityFile(path, certs, identitySpec(user, policy, now, IDENTITY_TTL_MS));
    log(`wrote identity file for "${user.name}" to ${path}`);
  }
}

/** A certificate for `user` with its static roles, as a login issues it (or, with `impersonator`, a signer). */
function identitySpec(
  user: User,
  policy: Policy,
  now: Date,
  ttlMs: number,
  impersonator?: string,
): UserCertSpec {
  return {
    identity: {
      username: user.name,
      roles: user.roles,
      traits: user.traits,
      activeRequests: [],
      allowedResourceIds: [],
      ...(impersonator ? { impersonator } : {}),
    },
    principals: loginsFor(policy, user.roles, user.traits),
    notAfter: new Date(now.getTime() + ttlMs),
    now,
  };
}

/**
 * The name of this server's host identity, `<host-uuid>.<cluster>` as Teleport names an Auth
 * host; the UUID is derived from the host CA, so it is stable for a data directory.
 */
export function hostIdentityName(certs: ClusterCerts): string {
  const h = createHash('sha256').update(certs.hostCa.certPem).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `${uuid}.${certs.clusterName}`;
}

/** Starts the server; resolves once it is listening and `DIR/server.json` names its address. */
export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  const now = opts.now ?? (() => new Date());
  const { host } = parseListen(opts.listen);
  const dir = dataDir(resolvePath(opts.dataDir));
  await ensureDirs(dir);
  const release = await lockDataDir(dir);
  let store: RequestStore | undefined;
  let server: grpc.Server | undefined;
  try {
    const existing = await readClusterInfo(dir);
    let clusterName: string;
    let seed: Seed;
    let certs: ClusterCerts;
    if (!existing) {
      clusterName = opts.clusterName ?? DEFAULT_CLUSTER;
      seed = opts.seedFile ? await loadSeedFile(opts.seedFile) : demoSeed();
      // Nothing was ever served from a directory without cluster.json, so leftovers are stale.
      await rm(dir.requestsLog, { force: true });
      await rm(join(dir.root, RULES_FILE), { force: true });
      certs = await loadOrCreateCerts(dir, { clusterName, now: now(), create: true, log });
      await writeJson(dir.seedJson, seed, 0o600);
      // Written last: its presence says the directory is fully initialized.
      await writeJson(dir.clusterJson, { cluster: clusterName, created: now().toISOString() });
      log(`initialized data directory ${dir.root} for cluster "${clusterName}"`);
    } else {
      clusterName = existing.cluster;
      if (opts.clusterName && opts.clusterName !== clusterName) {
        throw new Error(
          `data directory ${dir.root} belongs to cluster "${clusterName}", not "${opts.clusterName}"; omit --cluster-name or use another directory`,
        );
      }
      if (opts.seedFile) log(`data directory already initialized; --seed ${opts.seedFile} is ignored`);
      const stored = await readStoredSeed(dir);
      if (!stored) throw new Error(`data directory ${dir.root} is missing seed.json`);
      seed = stored;
      certs = await loadOrCreateCerts(dir, { clusterName, now: now(), create: false, log });
    }

    const policy: Policy = createPolicy(seed, clusterName);
    await ensureIdentities(dir, seed, policy, certs, now(), log);

    const openedStore = await RequestStore.open(dir.requestsLog, { log });
    store = openedStore;
    const hub = new WatchHub();
    openedStore.onCommit((c) => hub.publish(c));
    const rules = await RuleStore.open(join(dir.root, RULES_FILE));
    rules.onCommit((c) => hub.publishRule(c));
    const deps: ServiceDeps = { policy, store: openedStore, rules, hub, certs, now, log };

    const grpcServer = new grpc.Server({
      // Clients keep watch streams open for hours and ping every 30s or more.
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
    });
    server = grpcServer;
    grpcServer.addService(AuthServiceService, createAuthService(deps));
    grpcServer.addService(KubeServiceService, createKubeService(deps));
    grpcServer.addService(AccessMonitoringRulesServiceService, createAmrService({ ...deps, rules }));
    const creds = grpc.ServerCredentials.createSsl(
      Buffer.from(certs.userCa.certPem),
      [{ cert_chain: Buffer.from(certs.serverCertPem), private_key: Buffer.from(certs.serverKeyPem) }],
      true,
    );
    const port = await bind(grpcServer, opts.listen, creds);
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
        hub.closeAll(new ServerError(14, 'server is shutting down'));
        await drained;
        await sweeping;
        await openedStore.close();
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
        if (!found) throw new ServerError(5, `user "${user}" not found`);
        const spec = identitySpec(found, policy, now(), IDENTITY_TTL_MS, hostIdentityName(certs));
        await writeIdentityFile(path, certs, spec);
      },
      stop,
    };
  } catch (err) {
    server?.forceShutdown();
    await store?.close().catch(() => undefined);
    await release();
    throw err;
  }
}

export { readServerInfo, type ServerInfo } from './datadir.js';
