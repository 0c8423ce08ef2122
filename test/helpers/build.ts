/**
 * Builds the embedded server (src/server/index.ts) into a private temp directory for tests
 * that run it in a child process, so they never race other tests (or a developer) writing
 * dist/. esbuild bundles it in a fraction of a second, where a tsc build of the tree took
 * most of such a test's time; dependencies stay external and resolve through a link to
 * node_modules.
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');

export interface PrivateBuild {
  /** The equivalent of dist/: the server module is `server/index.js` inside it. */
  dir: string;
  cleanup(): Promise<void>;
}

export async function buildPrivate(): Promise<PrivateBuild> {
  const base = await mkdtemp(join(tmpdir(), 'access-build-'));
  const out = join(base, 'dist');
  // Imports of dependencies resolve through a node_modules link; "type" makes .js files ESM.
  await symlink(join(ROOT, 'node_modules'), join(base, 'node_modules'), 'dir');
  await writeFile(join(base, 'package.json'), '{"type":"module"}\n');
  await build({
    absWorkingDir: ROOT,
    entryPoints: { 'server/index': 'src/server/index.ts' },
    outdir: out,
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    logLevel: 'silent',
  });
  return { dir: out, cleanup: () => rm(base, { recursive: true, force: true }) };
}
