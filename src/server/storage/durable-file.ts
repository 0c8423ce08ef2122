/**
 * Durable files: append-only handles, atomic replacement (temp file, fsync, rename, fsync the
 * directory), and the status of a change that did not reach the disk.
 */

import { constants as fsConstants } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { readError, readRegularFile } from '../../identity/files.js';

/**
 * gRPC code of a change the server could not make durable. Teleport's backends return the
 * OS error unclassified, and `trail.ToGRPC` (gravitational/trace trail/trail.go) maps an
 * error that is none of its trace kinds to codes.Unknown. It must not be Unavailable:
 * the server was reached, and clients would retry a write that cannot succeed.
 */
export const STORE_FAILED = status.UNKNOWN;

/**
 * The log file as the store appends to it: a seam, so tests can make writes fall short
 * or fail (ENOSPC, EIO) without filling a disk.
 */
export interface AppendFile {
  /** Appends `buf[offset, offset+length)`; resolves with how many bytes reached the file. */
  write(buf: Buffer, offset: number, length: number): Promise<number>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens `path` for appending (created 0600 when missing). */
export async function openAppendFile(path: string): Promise<AppendFile> {
  const fh = await open(path, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT, 0o600);
  return {
    write: async (buf, offset, length) => (await fh.write(buf, offset, length)).bytesWritten,
    datasync: () => fh.datasync(),
    truncate: (length) => fh.truncate(length),
    close: () => fh.close(),
  };
}

/**
 * The text of `path`, or undefined when there is no such file. Anything but a regular file is
 * refused without blocking, and every failure names the path.
 */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await readRegularFile(path)).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw readError(path, err);
  }
}

/**
 * Writes `data` to a file, mode 0600, and fsyncs it: a new file (`wx`, EEXIST when one is
 * there) or over any existing one (`w`). The caller makes the directory entry durable.
 */
export async function writeSynced(path: string, data: Buffer | string, flag: 'w' | 'wx'): Promise<void> {
  const fh = await open(path, flag, 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The temp file {@link replaceFile} writes `path`'s new content to. */
function replacementOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
}

/**
 * Removes what {@link replaceFile} leaves in `dir` when a process dies between writing its temp
 * file and renaming it (`.requests.log.tmp-<pid>`), unless that process still runs. Call it
 * holding the directory's lock. Returns the names removed.
 */
export async function removeStaleReplacements(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    const m = /^\..+\.tmp-(\d+)$/.exec(name);
    if (!m || (Number(m[1]) !== process.pid && processAlive(Number(m[1])))) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** Whether a process with this PID exists (EPERM: it does, someone else's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Replaces `path` with `data` durably: temp file, fsync, rename, fsync the directory. */
export async function replaceFile(path: string, data: Buffer): Promise<void> {
  const tmp = replacementOf(path);
  await writeSynced(tmp, data, 'w');
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

/** Makes a rename or file creation in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
