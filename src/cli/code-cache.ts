/**
 * V8's code cache for the bundle's files, for Node 20, which has no module.enableCompileCache
 * (bin/access.cjs turns that on where it exists, and this off). The build runs the common
 * commands once with {@link installCodeCache} recording (scripts/code-cache.mjs), and writes
 * what V8 compiled for each bundle file beside it as `FILE.v8cache`; loading a file with its
 * cache skips parsing and compiling the functions it holds (about 25 ms of `request ls`,
 * measured side by side). V8 rejects a cache made by another V8 version or with other flags,
 * or for a source of another length, and the file then compiles as it would without. It does
 * not compare the source itself: a cache never outlives its file because the build removes
 * dist/bundle and writes the files and their caches together. Nothing is written at run time.
 *
 * Files are compiled as Node compiles CommonJS (the module wrapper, run in this context) but
 * through vm.Script, whose cache can be taken after the code has run: a stack trace's column
 * on a file's first line counts the wrapper too.
 */
import Module from 'node:module';
import { dirname } from 'node:path';

/** How the bundle's files were compiled; `save` writes their caches (recording only). */
export interface CodeCacheStats {
  accepted: number;
  rejected: number;
  missing: number;
}

export const CACHE_SUFFIX = '.v8cache';

interface Compilable {
  exports: unknown;
  _compile(content: string, filename: string): unknown;
}

/**
 * Compiles every CommonJS file loaded from `dir` (not below it) with its code cache when there
 * is one. With `record`, the returned `save` writes each such file's cache as compiled so far.
 */
export function installCodeCache(dir: string, record = false): { stats: CodeCacheStats; save(): void } {
  const { readFileSync, writeFileSync } = process.getBuiltinModule('node:fs');
  const vm = process.getBuiltinModule('node:vm');
  const stats: CodeCacheStats = { accepted: 0, rejected: 0, missing: 0 };
  const compiled: { script: InstanceType<typeof vm.Script>; file: string }[] = [];
  const proto = Module.prototype as unknown as Compilable;
  const compile = proto._compile;
  proto._compile = function (this: Compilable, content: string, filename: string) {
    if (dirname(filename) !== dir) return compile.call(this, content, filename);
    const file = filename + CACHE_SUFFIX;
    let cachedData: Buffer | undefined;
    if (!record) {
      try {
        cachedData = readFileSync(file);
      } catch {
        stats.missing++;
      }
    }
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    if (cachedData) stats[script.cachedDataRejected ? 'rejected' : 'accepted']++;
    if (record) compiled.push({ script, file });
    const wrapper = script.runInThisContext() as (...args: unknown[]) => unknown;
    const require = Module.createRequire(filename);
    return wrapper.call(this.exports, this.exports, require, this, filename, dirname(filename));
  };
  return {
    stats,
    save() {
      for (const { script, file } of compiled) writeFileSync(file, script.createCachedData());
    },
  };
}
