import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { type FileHandle, link, lstat, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AccessError, UsageError } from '../model/errors.js';

/**
 * Largest credential file read (identity file, TLS trio, tsh profile files). Real ones are a
 * few KiB plus one certificate per trusted cluster; the cap stops `-i /dev/zero` or a wrong
 * path to a huge file from filling memory.
 */
export const MAX_CREDENTIAL_FILE_BYTES = 4 * 1024 * 1024;

/** A file larger than the cap given to {@link readTextCapped}. */
export class FileTooLargeError extends Error {
  override readonly name = 'FileTooLargeError';
  constructor(readonly limit: number) {
    super(`larger than ${limit / (1024 * 1024)} MiB`);
  }
}

/** A path the user named that is not a regular file (a FIFO, a device, a directory, a socket). */
export class NotRegularFileError extends Error {
  override readonly name = 'NotRegularFileError';
  readonly code = 'ENOTREG';
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    // A directory says so as EISDIR always did; anything else says what it is not.
    super(kind === 'a directory' ? 'is a directory' : `is ${kind}, not a regular file`);
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

/**
 * Opens a path the user named (an identity file, a config, a seed, a data directory's log) for
 * reading, and refuses anything but a regular file. The open itself never blocks: with
 * O_NONBLOCK a FIFO without a writer opens at once (and is then refused) instead of waiting in
 * the thread pool, where no signal can reach it. O_NONBLOCK changes nothing for regular files.
 */
export async function openRegularFile(path: string): Promise<FileHandle> {
  const handle = await open(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new NotRegularFileError(path, kindOf(st));
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * The bytes of a regular file (see {@link openRegularFile}), at most `limit` of them
 * ({@link FileTooLargeError} beyond). Reads in chunks rather than trusting the size `stat`
 * reports, so a file that grows while it is read is capped too.
 */
export async function readRegularFile(path: string, limit = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
  const handle = await openRegularFile(path);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, limit + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > limit) throw new FileTooLargeError(limit);
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

/** A UTF-8 regular file of at most `limit` bytes (credential files by default). */
export async function readTextCapped(path: string, limit = MAX_CREDENTIAL_FILE_BYTES): Promise<string> {
  return (await readRegularFile(path, limit)).toString('utf8');
}

/**
 * A file the user named for a command's input or configuration, refused (UsageError, exit 2)
 * with `cannot read <what> "<path>": <reason>` when it is missing, not a regular file (never
 * blocking on a FIFO) or unreadable.
 */
export async function readUserFile(
  path: string,
  what: string,
  limit = MAX_CREDENTIAL_FILE_BYTES,
): Promise<Buffer> {
  try {
    return await readRegularFile(path, limit);
  } catch (err) {
    throw new UsageError(`cannot read ${what} "${path}": ${describeFsError(err)}`);
  }
}

/**
 * `cannot read "<path>": <reason>`: an I/O failure of a user-named file, always naming it
 * (Node's own messages for EISDIR or EAGAIN do not).
 */
export function readError(path: string, err: unknown, what = ''): Error {
  const label = what ? `${what} ` : '';
  return new Error(`cannot read ${label}"${path}": ${describeFsError(err)}`, { cause: err });
}

/** One file for {@link writeFilesExclusive}. */
export interface FileToWrite {
  path: string;
  data: string | Uint8Array;
  mode?: number;
}

/** A sibling temp name, so the final rename stays on one filesystem and is atomic. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** A short, human reason for a failed file-system call ("no such file", "permission denied"). */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'ENXIO':
      return 'no such device (a socket or a FIFO without a reader?)';
    case 'EIO':
      return 'input/output error';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EROFS':
      return 'read-only file system';
    default:
      if (err instanceof NotRegularFileError) return err.message;
      if (err instanceof FileTooLargeError) return `${err.message}; is this the right file?`;
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}

function writeError(path: string, err: unknown): AccessError {
  if (err instanceof AccessError) return err;
  const reason =
    (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : describeFsError(err);
  return new AccessError('failure', `cannot write "${path}": ${reason}`, undefined, { cause: err });
}

async function writeTemp(path: string, data: string | Uint8Array, mode: number): Promise<string> {
  const temp = tempPathFor(path);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(temp, 'wx', mode);
  } catch (err) {
    throw writeError(path, err);
  }
  try {
    await handle.writeFile(data);
    // open() filters the mode through the umask; key files need it exact.
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw writeError(path, err);
  }
  await handle.close();
  return temp;
}

/** Makes the renames durable; some platforms cannot open a directory, which is fine to skip. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Durability of the rename is best effort where directories cannot be fsynced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Replaces `path` atomically: writes a temp file in the same directory, fsyncs it, sets
 * `mode`, renames it over `path` and fsyncs the directory. Readers see the old or the new
 * content, never a mix.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = await writeTemp(path, data, mode);
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw writeError(path, err);
  }
  await syncDirectory(dirname(path));
}

/**
 * Creates `path` with `data` unless it exists, atomically: the content is written and synced
 * to a temp file first and then hard-linked into place, so a reader (or a second process
 * doing the same) sees no file or the whole file. Returns false, writing nothing, when
 * `path` already exists.
 */
export async function createFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
): Promise<boolean> {
  const temp = await writeTemp(path, data, mode);
  try {
    await link(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw writeError(path, err);
  } finally {
    await rm(temp, { force: true });
  }
  await syncDirectory(dirname(path));
  return true;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw writeError(path, err);
  }
}

/**
 * Writes several files as one unit. Without `overwrite`, refuses (usage error, nothing
 * written) when any target exists. All content goes to temp files first and is only then
 * renamed into place; on failure the temps and any newly created targets are removed, so
 * no half-written set is left (a replaced file keeps its new content).
 */
export async function writeFilesExclusive(files: FileToWrite[], opts: { overwrite: boolean }): Promise<void> {
  const existing = new Set<string>();
  for (const file of files) {
    if (!(await exists(file.path))) continue;
    if (!opts.overwrite) {
      throw new UsageError(`refusing to overwrite "${file.path}": pass --overwrite to replace it`);
    }
    existing.add(file.path);
  }
  const temps: { temp: string; path: string }[] = [];
  const created: string[] = [];
  try {
    for (const file of files) {
      temps.push({ temp: await writeTemp(file.path, file.data, file.mode ?? 0o600), path: file.path });
    }
    for (const t of temps) {
      try {
        await rename(t.temp, t.path);
      } catch (err) {
        throw writeError(t.path, err);
      }
      if (!existing.has(t.path)) created.push(t.path);
    }
  } catch (err) {
    await Promise.all(temps.map((t) => rm(t.temp, { force: true })));
    await Promise.all(created.map((p) => rm(p, { force: true })));
    throw err;
  }
  for (const dir of new Set(files.map((f) => dirname(f.path)))) await syncDirectory(dir);
}
