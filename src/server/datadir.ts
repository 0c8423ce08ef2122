/**
 * The layout of an `access server` data directory and the small JSON files in it.
 *
 * ```
 * DIR/cluster.json          {cluster, created}: written once; the cluster this DIR belongs to
 * DIR/seed.json             the roles, users and resources loaded on first start
 * DIR/ca/{user,host}.{crt,key}
 * DIR/server.{crt,key}      the server's TLS certificate (signed by the host CA)
 * DIR/requests.log          the durable request log (store.ts)
 * DIR/identities/<user>.pem identity files of the seeded users
 * DIR/server.json           {addr, cluster}: rewritten on every start with the bound address
 * DIR/lock                  the PID of the server using DIR
 * ```
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../identity/files.js';
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
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
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

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the directory's lock, so two servers never append to one log. A lock left by a
 * process that is gone (killed) is taken over. Returns the release function.
 */
export async function lockDataDir(dir: DataDir): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(dir.lock, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return async () => {
        await rm(dir.lock, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(dir.lock, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new Error(`data directory ${dir.root} is in use by another server (pid ${pid})`);
      }
      if (pid === process.pid) {
        throw new Error(`data directory ${dir.root} is already in use by this process`);
      }
      await rm(dir.lock, { force: true });
    }
  }
  throw new Error(`cannot lock data directory ${dir.root}`);
}
