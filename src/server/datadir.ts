/**
 * The layout of an `access server` data directory and the small JSON files in it.
 *
 * ```
 * DIR/cluster.json          {cluster, created, id, logs}: the cluster this DIR belongs to, the DIR's
 *                           ID (in every log record) and the least length of each log
 * DIR/seed.json             the roles, users and resources loaded on first start
 * DIR/ca/{user,host}.{crt,key}
 * DIR/server.{crt,key}      the server's TLS certificate (signed by the host CA)
 * DIR/requests.log          the durable request log (storage/store.ts)
 * DIR/locks.log             the locks (storage/lock-store.ts; locks.json before issue 22)
 * DIR/access_monitoring_rules.log  the rules (storage/amr-store.ts; .pb before issue 22)
 * DIR/identities/<user>.pem identity files of the seeded users
 * DIR/server.json           {addr, cluster}: rewritten on every start with the bound address
 * DIR/lock                  the PID of the server using DIR
 * ```
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../identity/files.js';
import type { LogRecord } from './storage/append-log.js';
import { processAlive, readOptional, writeSynced } from './storage/durable-file.js';
import { ID_BYTES } from './storage/log-frame.js';
import type { Seed } from './types.js';

export interface DataDir {
  root: string;
  clusterJson: string;
  seedJson: string;
  userCaCert: string;
  userCaKey: string;
  hostCaCert: string;
  hostCaKey: string;
  serverCert: string;
  serverKey: string;
  requestsLog: string;
  locksLog: string;
  /** Where earlier versions kept the locks, converted on first start. */
  legacyLocksJson: string;
  rulesLog: string;
  /** Where earlier versions kept the rules, converted on first start. */
  legacyRulesFile: string;
  identitiesDir: string;
  serverJson: string;
  lock: string;
}

/** The paths of a data directory rooted at `root`. */
export function dataDir(root: string): DataDir {
  return {
    root,
    clusterJson: join(root, 'cluster.json'),
    seedJson: join(root, 'seed.json'),
    userCaCert: join(root, 'ca', 'user.crt'),
    userCaKey: join(root, 'ca', 'user.key'),
    hostCaCert: join(root, 'ca', 'host.crt'),
    hostCaKey: join(root, 'ca', 'host.key'),
    serverCert: join(root, 'server.crt'),
    serverKey: join(root, 'server.key'),
    requestsLog: join(root, 'requests.log'),
    locksLog: join(root, 'locks.log'),
    legacyLocksJson: join(root, 'locks.json'),
    rulesLog: join(root, 'access_monitoring_rules.log'),
    legacyRulesFile: join(root, 'access_monitoring_rules.pb'),
    identitiesDir: join(root, 'identities'),
    serverJson: join(root, 'server.json'),
    lock: join(root, 'lock'),
  };
}

/** Where the identity file of `user` lives. Names are checked so they cannot escape the directory. */
export function identityPath(dir: DataDir, user: string): string {
  if (!/^[A-Za-z0-9._@+-]+$/.test(user) || user === '.' || user === '..') {
    throw new Error(`user name "${user}" cannot be used as a file name`);
  }
  return join(dir.identitiesDir, `${user}.pem`);
}

/** `DIR/server.json`: where a running server listens, for tools and tests to find it. */
export interface ServerInfo {
  addr: string;
  cluster: string;
}

/** `DIR/cluster.json`: which cluster the directory belongs to. */
export interface ClusterInfo {
  cluster: string;
  created: string;
  /**
   * The data directory's ID, hex: every log's header and record carries it, so a log (or
   * records) of another directory is told apart. Added on the first start that lacks it.
   */
  id?: string;
  /** Each log's least length in bytes, by file name (storage/append-log.ts says when it is set). */
  logs?: Record<string, number>;
}

/** What is wrong with a parsed cluster.json, or undefined when it is sound. */
export function clusterInfoProblem(info: unknown): string | undefined {
  const v = info as Partial<ClusterInfo> | undefined;
  if (typeof v !== 'object' || v === null || typeof v.cluster !== 'string') return '"cluster" is not a name';
  if (
    v.id !== undefined &&
    !(typeof v.id === 'string' && new RegExp(`^[0-9a-f]{${2 * ID_BYTES}}$`).test(v.id))
  )
    return '"id" is not an ID';
  if (v.logs !== undefined) {
    if (typeof v.logs !== 'object' || v.logs === null || Array.isArray(v.logs))
      return '"logs" is not an object';
    for (const [k, n] of Object.entries(v.logs))
      if (!Number.isSafeInteger(n) || n < 0) return `"logs"."${k}" is not a length`;
  }
  return undefined;
}

/**
 * cluster.json as the stores keep it: the directory's ID and each log's least length,
 * written whole (temp, fsync, rename) one change at a time.
 */
export class ClusterFile {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: DataDir,
    private info: ClusterInfo,
  ) {}

  /** Takes `info` as read; gives the directory an ID first when it has none. */
  static async load(dir: DataDir, info: ClusterInfo): Promise<ClusterFile> {
    const file = new ClusterFile(dir, info);
    if (!info.id) await file.write((cur) => ({ ...cur, id: randomBytes(ID_BYTES).toString('hex') }));
    return file;
  }

  get id(): Buffer {
    return Buffer.from(this.info.id!, 'hex');
  }

  /** What the directory records about its log `name` (a file in it), for the store that opens it. */
  log(name: string): LogRecord {
    return {
      id: this.id,
      minBytes: this.info.logs?.[name],
      record: (bytes) => this.write((cur) => ({ ...cur, logs: { ...cur.logs, [name]: bytes } })),
      recovery: `restore it from a backup of the data directory, or, to start without what it held, move it away and remove "${name}" from "logs" in ${this.dir.clusterJson}`,
    };
  }

  private write(edit: (current: ClusterInfo) => ClusterInfo): Promise<void> {
    const run = this.chain.then(async () => {
      const next = edit(this.info);
      await writeJson(this.dir.clusterJson, next);
      this.info = next;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readOptional(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
}

export async function writeJson(path: string, value: unknown, mode = 0o644): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode);
}

export function readServerInfo(dir: DataDir): Promise<ServerInfo | undefined> {
  return readJson<ServerInfo>(dir.serverJson);
}

export function writeServerInfo(dir: DataDir, info: ServerInfo): Promise<void> {
  return writeJson(dir.serverJson, info);
}

export function readClusterInfo(dir: DataDir): Promise<ClusterInfo | undefined> {
  return readJson<ClusterInfo>(dir.clusterJson);
}

export function readStoredSeed(dir: DataDir): Promise<Seed | undefined> {
  return readJson<Seed>(dir.seedJson);
}

/** Creates the directories of a data dir (private: it holds CA keys). */
export async function ensureDirs(dir: DataDir): Promise<void> {
  await mkdir(dir.root, { recursive: true, mode: 0o700 });
  await mkdir(join(dir.root, 'ca'), { recursive: true, mode: 0o700 });
  await mkdir(dir.identitiesDir, { recursive: true, mode: 0o700 });
}

/** Lock file content: `<pid> <nonce>\n`; the newline says it was written whole. */
function parseLock(text: string): { pid: number } | undefined {
  const m = /^(\d+) [0-9a-f]{32}\n$/.exec(text);
  return m ? { pid: Number(m[1]) } : undefined;
}

/**
 * Creates `path` holding `content`, complete, or fails with EEXIST: the content goes to a
 * private temp file first and is then hard-linked into place, which is atomic and exclusive.
 */
async function createComplete(path: string, content: string): Promise<boolean> {
  const tmp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  await writeSynced(tmp, content, 'wx');
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Removes `path` only when it still holds exactly `content`. */
async function removeIfContent(path: string, content: string): Promise<void> {
  if ((await readOptional(path)) === content) await rm(path, { force: true });
}

function inUse(dir: DataDir, pid: number): Error {
  return new Error(
    `data directory ${dir.root} is in use by another server (pid ${pid}); stop it or use another --data-dir`,
  );
}

/**
 * Takes the directory's lock, so two servers never append to one log. The lock file is
 * created whole and exclusively (temp file + link). A lock is taken over only when its
 * content is complete and names a process that is gone, and only under a second,
 * exclusive takeover lock: removing a file is safe only while no one else may replace it.
 * Returns the release function, which removes the lock only while it is still ours.
 */
export async function lockDataDir(dir: DataDir): Promise<() => Promise<void>> {
  const mine = `${process.pid} ${randomBytes(16).toString('hex')}\n`;
  const takeover = `${dir.lock}.takeover`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createComplete(dir.lock, mine)) return () => removeIfContent(dir.lock, mine);
    const text = await readOptional(dir.lock);
    if (text === undefined) continue; // released meanwhile: try again
    const held = parseLock(text);
    if (!held) {
      throw new Error(
        `data directory ${dir.root} has a lock file that is not one of ours or is incomplete (${dir.lock}); if no server uses the directory, remove it`,
      );
    }
    if (processAlive(held.pid)) throw inUse(dir, held.pid);
    if (!(await createComplete(takeover, mine))) {
      const other = parseLock((await readOptional(takeover)) ?? '');
      if (other && !processAlive(other.pid)) {
        throw new Error(
          `data directory ${dir.root}: a server (pid ${other.pid}) died while taking over its lock; if no server uses the directory, remove ${takeover} and ${dir.lock}`,
        );
      }
      throw inUse(dir, other?.pid ?? held.pid);
    }
    try {
      // Only a takeover holder removes someone else's lock, so what we checked is still there.
      if ((await readOptional(dir.lock)) === text) await rm(dir.lock, { force: true });
    } finally {
      await removeIfContent(takeover, mine);
    }
  }
  throw new Error(`cannot lock data directory ${dir.root}: another server keeps taking it`);
}
