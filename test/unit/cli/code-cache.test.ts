/**
 * The bundle's V8 code cache (src/cli/code-cache.ts): files load the same with and without
 * it, a cache V8 cannot use (here: for a source of another length) is rejected harmlessly, and the caches the build wrote are
 * accepted by this Node. The hook changes how CommonJS compiles in its process, so each case
 * runs in a child process.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT } from '../../helpers/e2e.js';

const BUNDLE = join(ROOT, 'dist', 'bundle');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-code-cache-'));
  await writeFile(
    join(dir, 'a.cjs'),
    "const b = require('./b.cjs');\nexports.run = (x) => b.twice(x) + 1;\n",
  );
  await writeFile(join(dir, 'b.cjs'), 'exports.twice = (x) => x * 2;\nexports.file = () => __filename;\n');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `body` in a child node with `installCodeCache(dir, record)` as `cc`; returns what it prints as JSON. */
function inChild(cacheDir: string, record: boolean, body: string): unknown {
  const script = `const cc = require(${JSON.stringify(join(BUNDLE, 'code-cache.cjs'))}).installCodeCache(${JSON.stringify(cacheDir)}, ${record});\n${body}`;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH } }),
  );
}

const RUN_A = `const a = require(${JSON.stringify('DIR/a.cjs')});`;

describe('code cache', () => {
  test('recorded, then loaded with it: the same results, each file accepted', async () => {
    const load = RUN_A.replace('DIR', dir);
    const recorded = inChild(
      dir,
      true,
      `${load} const r = a.run(20); cc.save(); console.log(JSON.stringify(r));`,
    );
    expect(recorded).toBe(41);
    expect((await readdir(dir)).sort()).toEqual(['a.cjs', 'a.cjs.v8cache', 'b.cjs', 'b.cjs.v8cache']);
    const loaded = inChild(
      dir,
      false,
      `${load} console.log(JSON.stringify({ r: a.run(20), file: require(${JSON.stringify(join(dir, 'b.cjs'))}).file(), stats: cc.stats }));`,
    );
    expect(loaded).toEqual({
      r: 41,
      file: join(dir, 'b.cjs'),
      stats: { accepted: 2, rejected: 0, missing: 0 },
    });
  });

  test('a cache made for a source of another length is rejected and the file compiles as without one', async () => {
    const other = await mkdtemp(join(tmpdir(), 'access-code-cache-other-'));
    try {
      await writeFile(join(other, 'a.cjs'), 'exports.run = (x) => x - 1;\n');
      inChild(
        other,
        true,
        `require(${JSON.stringify(join(other, 'a.cjs'))}).run(1); cc.save(); console.log(0);`,
      );
      await writeFile(
        join(other, 'a.cjs'),
        'exports.run = (x) => { const y = [x]; return y.map((v) => v + 100)[0]; };\n',
      );
      const loaded = inChild(
        other,
        false,
        `const r = require(${JSON.stringify(join(other, 'a.cjs'))}).run(1); console.log(JSON.stringify({ r, stats: cc.stats }));`,
      );
      expect(loaded).toEqual({ r: 101, stats: { accepted: 0, rejected: 1, missing: 0 } });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  test('files outside the directory compile as Node compiles them', () => {
    const loaded = inChild(
      join(dir, 'elsewhere'),
      false,
      `${RUN_A.replace('DIR', dir)} console.log(JSON.stringify({ r: a.run(1), stats: cc.stats }));`,
    );
    expect(loaded).toEqual({ r: 3, stats: { accepted: 0, rejected: 0, missing: 0 } });
  });

  test("the build's caches: every bundle file the program loads has one, and this Node accepts it", () => {
    const loaded = inChild(
      BUNDLE,
      false,
      `require(${JSON.stringify(join(BUNDLE, 'access.cjs'))}); console.log(JSON.stringify(cc.stats));`,
    ) as { accepted: number; rejected: number; missing: number };
    expect(loaded.accepted).toBeGreaterThan(0);
    expect(loaded).toMatchObject({ rejected: 0, missing: 0 });
  });
});
