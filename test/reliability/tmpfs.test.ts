/**
 * Issue 10 item 1 on a real small file system (root only: a 200 KiB tmpfs; skipped
 * otherwise, where store-faults.test.ts injects the same failures): creates that hit
 * ENOSPC are refused with "could not store" (exit 1, not "cannot reach"), every
 * acknowledged create survives a restart, and creates after space is freed are kept.
 * Also: a read-only data dir is refused with one line.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRequestStore, type RunningServer, startServer } from '../../src/server/index.js';
import type { Damage } from '../../src/server/storage/store-log.js';
import { runCli } from '../helpers/run-cli.js';

const isRoot = process.getuid?.() === 0;
let mnt: string;
let mounted = false;
let server: RunningServer | undefined;

function mount(opts: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', mnt], { stdio: 'ignore' });
    mounted = true;
  } catch {
    mounted = false;
  }
  return mounted;
}

beforeEach(async () => {
  mnt = await mkdtemp(join(tmpdir(), 'access-tmpfs-'));
});

afterEach(async () => {
  await server?.stop({ graceMs: 1000 });
  server = undefined;
  if (mounted) execFileSync('umount', [mnt]);
  mounted = false;
  await rmdir(mnt);
});

/** Fills the file system with one file until ENOSPC; returns its path. */
async function fill(dir: string): Promise<string> {
  const path = join(dir, 'filler');
  const fh = await open(path, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) await fh.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await fh.close();
  }
  return path;
}

describe.runIf(isRoot)('on a small tmpfs', () => {
  it('disk full: refused writes are not acknowledged, acknowledged ones all survive', async (ctx) => {
    if (!mount('size=200k')) return ctx.skip();
    const data = join(mnt, 'data');
    server = await startServer({ dataDir: data, listen: '127.0.0.1:0' });
    const env = {
      HOME: mnt,
      ACCESS_AUTH_SERVER: server.addr,
      ACCESS_IDENTITY: server.identityPath('alice'),
    };
    const create = () =>
      runCli(['request', 'create', '--roles', 'dba', '--reason', 'r', '--nowait', '-f', 'json'], { env });
    const acknowledged: string[] = [];
    const filler = await fill(mnt);

    let refused: Awaited<ReturnType<typeof create>> | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const r = await create();
      if (r.code === 0) acknowledged.push(JSON.parse(r.stdout).id);
      else refused = r;
    }
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(/^error: the server could not store the change \(disk full\?\): /);
    expect(refused?.stderr).not.toMatch(/cannot reach/);

    await rm(filler);
    for (let i = 0; i < 20; i++) {
      const r = await create();
      expect(r.code).toBe(0);
      acknowledged.push(JSON.parse(r.stdout).id);
    }
    await server.stop();
    server = undefined;

    const damages: Damage[] = [];
    const store = await openRequestStore(data, { onDamage: (d) => damages.push(d) });
    try {
      expect(damages).toEqual([]);
      for (const id of acknowledged) expect(store.get(id)).toBeDefined();
      expect(store.count).toBe(acknowledged.length);
    } finally {
      await store.close();
    }
  });

  it('a read-only file system: one line, exit 1', async (ctx) => {
    if (!mount('size=64k')) return ctx.skip();
    await mkdir(join(mnt, 'ro'));
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    const r = await runCli([
      'server',
      'start',
      '--data-dir',
      join(mnt, 'ro', 'data'),
      '--listen',
      '127.0.0.1:0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot use data directory .*: the file system is read-only/);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
