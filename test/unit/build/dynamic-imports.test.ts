/**
 * The bundle's dynamic imports (scripts/bundle.mjs, scripts/check-dynamic-imports.mjs): a split
 * dynamic import of a CommonJS package has the names Node gives it, and the build's check
 * names every import whose chunk lacks a name its importer uses. A fixture project in a
 * temporary directory, bundled by esbuild as the build does (split ES modules).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// @ts-expect-error: a build script, plain JavaScript
import { commonJsNamespace } from '../../../scripts/bundle.mjs';
// @ts-expect-error: a build script, plain JavaScript
import { checkDynamicImports } from '../../../scripts/check-dynamic-imports.mjs';

const check = checkDynamicImports as (metafile: Metafile, root: string) => Promise<string[]>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-dynamic-imports-'));
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  const pkg = join(dir, 'node_modules', 'cjs-pkg');
  await mkdir(pkg, { recursive: true });
  await writeFile(join(pkg, 'package.json'), '{ "name": "cjs-pkg", "main": "index.js" }\n');
  await writeFile(join(pkg, 'index.js'), "exports.parse = (s) => 'parsed ' + s;\nexports.VERSION = 2;\n");
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'src', 'own.ts'), 'export const twice = (n: number) => n * 2;\n');
  await writeFile(
    join(dir, 'src', 'entry.ts'),
    `export async function destructured() {
  const { parse } = await import('cjs-pkg');
  return parse('x');
}
export async function all() {
  const [{ VERSION }, { twice }] = await Promise.all([import('cjs-pkg'), import('./own.js')]);
  return twice(VERSION);
}
export const accessed = async () => (await import('cjs-pkg')).VERSION;
export const viaThen = () => import('cjs-pkg').then(({ default: m }) => m.VERSION);
export const whole = () => import('./own.js');
`,
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function bundle(out: string, plugins: Plugin[]): Promise<Metafile> {
  const result = await build({
    absWorkingDir: dir,
    entryPoints: ['src/entry.ts'],
    outdir: join(dir, out),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    metafile: true,
    logLevel: 'silent',
    plugins,
  });
  return result.metafile;
}

describe('dynamic imports of CommonJS in the split bundle', () => {
  test('esbuild alone: the chunk exports default only, and the check names each use of a missing name', async () => {
    const problems = await check(await bundle('plain', []), dir);
    expect(problems).toEqual([
      expect.stringMatching(
        /^src\/entry\.ts:2: import\('cjs-pkg'\) uses parse, which \S+ does not export \(it exports default\)$/,
      ),
      expect.stringMatching(/^src\/entry\.ts:6: import\('cjs-pkg'\) uses VERSION, which/),
      expect.stringMatching(/^src\/entry\.ts:9: import\('cjs-pkg'\) uses VERSION, which/),
    ]);
  });

  test('through the CommonJS namespace: default and every name, as Node gives them; the check passes', async () => {
    const metafile = await bundle('fixed', [commonJsNamespace as Plugin]);
    expect(await check(metafile, dir)).toEqual([]);
    // In a node of its own, as the bundle runs.
    const script = `const m = await import(${JSON.stringify(pathToFileURL(join(dir, 'fixed', 'entry.js')).href)});
console.log(JSON.stringify([await m.destructured(), await m.all(), await m.accessed(), await m.viaThen()]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['parsed x', 4, 2, 2]);
  });

  test('a package used whole cannot be checked, and is refused', async () => {
    await writeFile(join(dir, 'src', 'whole.ts'), "export const load = () => import('cjs-pkg');\n");
    const result = await build({
      absWorkingDir: dir,
      entryPoints: ['src/whole.ts'],
      outdir: join(dir, 'whole'),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      metafile: true,
      logLevel: 'silent',
    });
    expect(await check(result.metafile, dir)).toEqual([
      "src/whole.ts:1: import('cjs-pkg'): used whole, so the build cannot check its names; destructure it",
    ]);
  });
});
