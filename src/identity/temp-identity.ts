/**
 * The temporary identities `access exec` gives its COMMAND: one private directory each, named
 * after the exec process that owns it, so a later exec (or drop) can tell one whose owner was
 * killed (`kill -9` leaves no chance to clean up) and remove the elevated certificate it holds.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** What is known of processes: our own PID and user, and whether a PID still runs. */
export interface Processes {
  pid: number;
  /** Our user ID; undefined where there are none (Windows): nothing is then removed. */
  uid: number | undefined;
  alive(pid: number): boolean;
}

/** The prefix `mkdtemp` completes for a directory owned by process `pid`. */
export function execIdentityPrefix(tmp: string, pid: number): string {
  return join(tmp, `access-exec-${pid}-`);
}

const OWNED = /^access-exec-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * Removes from `tmp` the exec identity directories of ours whose owner process is gone.
 * Only real directories (not links) owned by our user are considered; a PID that runs again
 * (reused by another process) keeps its directory. Returns the paths removed.
 */
export async function removeStaleExecIdentities(tmp: string, procs: Processes): Promise<string[]> {
  if (procs.uid === undefined) return [];
  let names: string[];
  try {
    names = await readdir(tmp);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = OWNED.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === procs.pid || procs.alive(pid)) continue;
    const path = join(tmp, name);
    const st = await lstat(path).catch(() => undefined);
    if (!st?.isDirectory() || st.uid !== procs.uid) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}
