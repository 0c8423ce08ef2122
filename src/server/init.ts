/**
 * Getting a data directory ready to serve: every input is checked before anything is
 * written, a new directory is built in a temp directory next to it and renamed into
 * place (a failed first start leaves nothing), and an existing one is locked and checked
 * (its cluster.json, seed.json and CA keys) rather than silently re-created.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { certificateExpiry } from '../identity/certificate.js';
import { parseIdentityFile } from '../identity/identity-file.js';
import { UsageError } from '../model/errors.js';
import { loginsFor } from './auth-service/certs.js';
import { type ClusterCerts, loadOrCreateCerts, type UserCertSpec, writeIdentityFile } from './certs.js';
import {
  ClusterFile,
  clusterInfoProblem,
  type DataDir,
  dataDir,
  ensureDirs,
  identityPath,
  lockDataDir,
  readClusterInfo,
  readStoredSeed,
  writeJson,
} from './datadir.js';
import { demoSeed } from './demo-seed.js';
import { createPolicy } from './policy.js';
import { loadSeedFile } from './seed.js';
import { syncDir } from './storage/durable-file.js';
import { ID_BYTES } from './storage/log-frame.js';
import type { Policy, Seed, User } from './types.js';

export const DEFAULT_CLUSTER = 'local';
/** Lifetime of the identity files written for seeded users. */
const IDENTITY_TTL_MS = 30 * 24 * 3600 * 1000;
/** An identity file closer than this to its end is re-issued at start. */
const IDENTITY_RENEW_MS = 3600 * 1000;

/**
 * A cluster name goes into resource IDs (`/<cluster>/<kind>/<name>`, split on `/`), the
 * certificates' TeleportCluster field and file names, so it is held to host-name
 * characters: letters, digits, `.`, `_`, `-`, starting with a letter or digit, ≤253 bytes.
 */
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export function checkClusterName(name: string): void {
  if (!CLUSTER_NAME.test(name)) {
    throw new UsageError(
      `invalid cluster name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-" (like a host name), starting with a letter or digit`,
    );
  }
}

/** Splits `HOST:PORT` (IPv6 in brackets); a usage error when it is not one. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) {
    throw new UsageError(
      `invalid listen address ${JSON.stringify(listen)}: expected HOST:PORT with a port 0-65535`,
    );
  }
  return { host: m[1], port };
}

/** Why a listen address cannot be used, in one line; undefined when it is not a listen error. */
export function listenError(listen: string, err: unknown): Error | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return new Error(
        `cannot listen on ${listen}: the address is already in use; stop what uses it or pick another --listen`,
      );
    case 'EACCES':
      return new Error(`cannot listen on ${listen}: permission denied (ports below 1024 need privileges)`);
    case 'EADDRNOTAVAIL':
      return new UsageError(`cannot listen on ${listen}: the address is not one of this machine's`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return new UsageError(`cannot listen on ${listen}: the host name does not resolve`);
    default:
      return undefined;
  }
}

/**
 * Binds and releases the address once, so a port in use or a host that does not resolve is
 * refused before anything is written. (Port 0 always binds.)
 */
export async function checkListenable(listen: string): Promise<void> {
  const { host, port } = parseListen(listen);
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => reject(listenError(listen, err) ?? err));
    probe.listen({ host: bare, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** A file-system failure under the data directory, in one line saying what to check. */
export function dataDirError(root: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const what: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    ENOTDIR: 'a part of the path is not a directory',
    EEXIST: 'a file is in the way',
    ENOENT: 'a parent directory does not exist and cannot be created',
    ELOOP: 'too many symbolic links',
    ENAMETOOLONG: 'the path is too long',
  };
  const reason = (e?.code && what[e.code]) ?? (e instanceof Error ? e.message : String(err));
  const at = e?.path && e.path !== root ? ` (${e.path})` : '';
  return new Error(`cannot use data directory ${root}: ${reason}${at}`);
}

/**
 * `mkdir -p` that cannot loop: Node's recursive mkdir spins forever where a parent exists
 * but refuses children (`/proc/1/x`), so each level is made once, from the top down.
 */
export async function makeDirs(path: string, mode: number): Promise<void> {
  try {
    await mkdir(path, { mode });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await stat(path)).isDirectory()) return;
      throw err;
    }
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw err;
  }
  await makeDirs(dirname(path), mode);
  try {
    await mkdir(path, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Refuses seed users whose names cannot be identity file names (`../../etc/x`). */
function checkSeedUsers(seed: Seed, source: string, dir: DataDir): void {
  for (const user of seed.users) {
    try {
      identityPath(dir, user.name);
    } catch {
      throw new UsageError(
        `seed ${source}: user name ${JSON.stringify(user.name)} is not allowed: use letters, digits and . _ @ + -`,
      );
    }
  }
}

/** seed.json as written on first start; anything else is a damaged file, named as such. */
function checkStoredSeed(value: unknown, path: string): Seed {
  const fail = (what: string): never => {
    throw new Error(`${path} is damaged (${what}); restore it from a backup of the data directory`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const isStrings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (!isObject(value)) return fail('not a JSON object');
  for (const key of ['roles', 'users', 'resources'])
    if (!Array.isArray(value[key])) fail(`"${key}" is not a list`);
  (value.users as unknown[]).forEach((u, i) => {
    if (!isObject(u) || typeof u.name !== 'string' || !isStrings(u.roles) || !isObject(u.traits))
      fail(`users[${i}] is not a user`);
  });
  (value.roles as unknown[]).forEach((r, i) => {
    if (
      !isObject(r) ||
      typeof r.name !== 'string' ||
      !isObject(r.allow) ||
      !isObject(r.deny) ||
      !isObject(r.options)
    )
      fail(`roles[${i}] is not a role`);
  });
  (value.resources as unknown[]).forEach((r, i) => {
    if (!isObject(r) || typeof r.kind !== 'string' || typeof r.name !== 'string' || !isObject(r.labels))
      fail(`resources[${i}] is not a resource`);
  });
  return value as unknown as Seed;
}

/** A certificate for `user` with its static roles, as a login issues it (or, with `impersonator`, a signer). */
export function identitySpec(user: User, policy: Policy, now: Date, impersonator?: string): UserCertSpec {
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
    notAfter: new Date(now.getTime() + IDENTITY_TTL_MS),
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
    await writeIdentityFile(path, certs, identitySpec(user, policy, now));
    log(`wrote identity file for "${user.name}" to ${path}`);
  }
}

type DirState = 'absent' | 'empty' | 'initialised' | 'uninitialised';

async function inspect(dir: DataDir): Promise<DirState> {
  let entries: string[];
  try {
    entries = await readdir(dir.root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR')
      throw new UsageError(`data directory ${dir.root} is not a directory`);
    throw err;
  }
  if (entries.length === 0) return 'empty';
  return entries.includes(basename(dir.clusterJson)) ? 'initialised' : 'uninitialised';
}

export interface PrepareOptions {
  root: string;
  seedFile?: string;
  clusterName?: string;
  now: () => Date;
  log: (line: string) => void;
  warn: (line: string) => void;
}

export interface Prepared {
  dir: DataDir;
  clusterName: string;
  seed: Seed;
  policy: Policy;
  certs: ClusterCerts;
  /** cluster.json, as the stores record their logs in it. */
  cluster: ClusterFile;
  /** Releases the data dir's lock. */
  release: () => Promise<void>;
}

/**
 * Builds a new data directory in a temp directory beside `dir.root` and renames it into
 * place. False when another start got there first (the caller then treats it as existing).
 */
async function initialise(
  dir: DataDir,
  seed: Seed,
  clusterName: string,
  opts: PrepareOptions,
): Promise<boolean> {
  const parent = dirname(dir.root);
  await makeDirs(parent, 0o700);
  const tmpRoot = join(
    parent,
    `.${basename(dir.root)}.init-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const tmp = dataDir(tmpRoot);
  try {
    await mkdir(tmpRoot, { mode: 0o700 });
    await ensureDirs(tmp);
    const certs = await loadOrCreateCerts(tmp, { clusterName, now: opts.now(), create: true, log: opts.log });
    await writeJson(tmp.seedJson, seed, 0o600);
    await ensureIdentities(tmp, seed, createPolicy(seed, clusterName), certs, opts.now(), () => {});
    await writeJson(tmp.clusterJson, {
      cluster: clusterName,
      created: opts.now().toISOString(),
      id: randomBytes(ID_BYTES).toString('hex'),
    });
    try {
      // Replaces an empty directory; fails when a concurrent start filled it first.
      await rename(tmpRoot, dir.root);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw err;
    }
    await syncDir(parent);
    opts.log(`initialized data directory ${dir.root} for cluster "${clusterName}"`);
    return true;
  } catch (err) {
    // Name the place the user chose, not the temp directory it was being built in.
    const e = err as NodeJS.ErrnoException;
    if (e.path?.startsWith(tmpRoot)) e.path = dir.root + e.path.slice(tmpRoot.length);
    throw err;
  } finally {
    await rm(tmpRoot, { recursive: true, force: true });
  }
}

/**
 * Checks the inputs, initialises a new directory or checks an existing one, and takes its
 * lock. Input errors are UsageErrors; nothing is written before they are found.
 */
export async function prepareDataDir(opts: PrepareOptions): Promise<Prepared> {
  const dir = dataDir(opts.root);
  if (opts.clusterName !== undefined) checkClusterName(opts.clusterName);
  const given = opts.seedFile ? await loadSeedFile(opts.seedFile) : undefined;
  if (given) checkSeedUsers(given, JSON.stringify(opts.seedFile), dir);
  try {
    let state = await inspect(dir);
    if (state === 'absent' || state === 'empty') {
      const seed = given ?? demoSeed();
      if (await initialise(dir, seed, opts.clusterName ?? DEFAULT_CLUSTER, opts)) state = 'initialised';
      else state = await inspect(dir);
    } else if (given) {
      // Teleport does the same with --bootstrap resources (lib/auth/init.go: initCluster,
      // "Ignoring bootstrap resources (previously initialized)"), but says so.
      opts.warn(
        `warning: ignoring --seed ${opts.seedFile}: data directory ${dir.root} is already initialised and keeps its own roles and users`,
      );
    }
    if (state === 'uninitialised') {
      throw new Error(
        `data directory ${dir.root} holds files but no cluster.json; nothing was changed: restore cluster.json from a backup, or start with an empty --data-dir`,
      );
    }
    return await openExisting(dir, opts);
  } catch (err) {
    if (err instanceof UsageError || !(err as NodeJS.ErrnoException).code) throw err;
    throw dataDirError(dir.root, err);
  }
}

async function openExisting(dir: DataDir, opts: PrepareOptions): Promise<Prepared> {
  const release = await lockDataDir(dir);
  try {
    const info = await readClusterInfo(dir);
    const problem = info ? clusterInfoProblem(info) : 'empty';
    if (!info || problem) {
      throw new Error(
        `${dir.clusterJson} is damaged (${problem}); restore it from a backup of the data directory`,
      );
    }
    const clusterName = info.cluster;
    if (opts.clusterName && opts.clusterName !== clusterName) {
      throw new UsageError(
        `data directory ${dir.root} belongs to cluster "${clusterName}", not "${opts.clusterName}"; omit --cluster-name or use another directory`,
      );
    }
    const stored = await readStoredSeed(dir);
    if (!stored) throw new Error(`data directory ${dir.root} is missing seed.json; restore it from a backup`);
    const seed = checkStoredSeed(stored, dir.seedJson);
    const certs = await loadOrCreateCerts(dir, {
      clusterName,
      now: opts.now(),
      create: false,
      log: opts.log,
    });
    const policy = createPolicy(seed, clusterName);
    await ensureIdentities(dir, seed, policy, certs, opts.now(), opts.log);
    const cluster = await ClusterFile.load(dir, info);
    return { dir, clusterName, seed, policy, certs, cluster, release };
  } catch (err) {
    await release();
    throw err;
  }
}
