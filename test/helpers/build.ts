/**
 * Compiles src/ into a private temp directory for tests that run code in a child
 * process, so they never race other tests (or a developer) writing dist/.
 */
import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');

export interface PrivateBuild {
  /** The compiled tree (the equivalent of dist/). */
  dir: string;
  cleanup(): Promise<void>;
}

export async function buildPrivate(): Promise<PrivateBuild> {
  const base = await mkdtemp(join(tmpdir(), 'access-build-'));
  const out = join(base, 'dist');
  // Imports of dependencies resolve through a node_modules link; "type" makes .js files ESM.
  await symlink(join(ROOT, 'node_modules'), join(base, 'node_modules'), 'dir');
  await writeFile(join(base, 'package.json'), '{"type":"module"}\n');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await promisify(execFile)(
      process.execPath,
      [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out, '--sourceMap', 'false'],
      {
        cwd: ROOT,
      },
    );
  } catch {
    // Type errors elsewhere in the tree still emit JavaScript; only a missing output is fatal.
  }
  await access(join(out, 'server', 'index.js'));
  return { dir: out, cleanup: () => rm(base, { recursive: true, force: true }) };
}
