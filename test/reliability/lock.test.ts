/**
 * Issue 10 item 6: two starts on one data dir never both run. The lock is created whole
 * (temp + link), a stale one is taken over only when its process is gone, and release
 * removes only a lock that is still ours.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataDir, lockDataDir } from '../../src/server/datadir.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'access-lock-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The PID of a process that has exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    // /bin/true: any process that exits will do, and it starts far faster than node.
    const child = spawn('true');
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

async function race(n: number) {
  const dir = dataDir(root);
  const results = await Promise.allSettled(Array.from({ length: n }, () => lockDataDir(dir)));
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  return { won, lost };
}

describe('data dir lock', () => {
  it('20 concurrent starts on a fresh dir: exactly one wins, the others are told it is in use', async () => {
    const { won, lost } = await race(20);
    expect(won).toHaveLength(1);
    for (const r of lost) expect(String(r.reason)).toMatch(/is in use by another server \(pid \d+\)/);
    expect(await readFile(join(root, 'lock'), 'utf8')).toMatch(
      new RegExp(`^${process.pid} [0-9a-f]{32}\\n$`),
    );
  });

  it('20 concurrent starts over a stale lock of a dead process: exactly one takes it over', async () => {
    for (let round = 0; round < 5; round++) {
      await writeFile(join(root, 'lock'), `${await deadPid()} ${'0'.repeat(32)}\n`);
      const { won } = await race(20);
      expect(won).toHaveLength(1);
      await (won[0] as PromiseFulfilledResult<() => Promise<void>>).value();
    }
  });

  it('an incomplete lock file is never taken for stale', async () => {
    await writeFile(join(root, 'lock'), '');
    await expect(lockDataDir(dataDir(root))).rejects.toThrow(/not one of ours or is incomplete/);
    expect(await readFile(join(root, 'lock'), 'utf8')).toBe('');
  });

  it('release removes the lock only while it is still ours', async () => {
    const release = await lockDataDir(dataDir(root));
    await writeFile(join(root, 'lock'), `${process.pid} ${'f'.repeat(32)}\n`);
    await release();
    expect(await readFile(join(root, 'lock'), 'utf8')).toBe(`${process.pid} ${'f'.repeat(32)}\n`);
  });
});
