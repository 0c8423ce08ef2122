/**
 * Vitest global setup: the e2e tests spawn bin/access.cjs, which runs the bundle in
 * dist/bundle (scripts/bundle.mjs); other tests import dist/. Build both once when they are
 * missing or older than any source file, so `npx vitest run` works without `npm run build`
 * first (`npm test` builds in pretest anyway).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  const marker = join(ROOT, 'dist', 'cli', 'main.js');
  const bundle = join(ROOT, 'dist', 'bundle', 'access.cjs');
  const built = existsSync(marker) && existsSync(bundle) ? newestMtime(join(ROOT, 'dist')) : 0;
  if (built >= newestMtime(join(ROOT, 'src'))) return;
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
  } catch (err) {
    // tsc still emits on type errors; only a missing entry point makes the e2e tests moot.
    if (!existsSync(marker)) throw err;
  }
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'pipe' });
}
