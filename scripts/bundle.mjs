// Bundles the CLI for `bin/access.cjs` (run by `npm run build`, after tsc): dist/bundle/access.cjs
// plus the chunks it loads on demand. One file holds what every command needs; what only
// some commands use (the connection, YAML, re-issue, the proxy bridge, tables on a TTY, the
// server) sits in chunks loaded by those commands' dynamic imports, so start-up reads and
// compiles only what the command runs. dist/bundle-meta.json is esbuild's metafile (which
// sources each output file holds) for the start-up guard test; it is not published.
//
// The files are CommonJS. esbuild splits only ES modules, so it bundles and splits as ESM in
// memory, then each output file is turned into CommonJS (imports of chunks become `require`,
// dynamic imports a deferred `require`). On Node 20 an ES module graph costs about 1 ms per
// module more than the same code as CommonJS, and the ES loader itself about 10 ms to start,
// measured side by side (a connecting command loads some 40 bundle files). On Node 22 and 24,
// with the compile cache for both, esbuild's split ES modules still took 5-15% more CPU than
// these files for `request ls` and `request create` (test/bench/pipeline.bench.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { build, transform } from 'esbuild';
import { checkDynamicImports } from './check-dynamic-imports.mjs';

const root = join(import.meta.dirname, '..');
const TARGET = 'node20.19';

/**
 * commander requires child_process (net, streams, ...) at load time for executable
 * subcommands, which this CLI has none of; it only calls spawn there, so loading waits.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.kind === 'require-call' && /node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'child_process', namespace: 'lazy-builtin' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let m;\nmodule.exports = new Proxy({}, { get: (_, key) => (m ??= require(${JSON.stringify(`node:${args.path}`)}))[key] });`,
      loader: 'js',
    }));
  },
};

/**
 * fast-help.ts wraps help with commander's Help class alone: its import resolves to the file
 * that defines it (and the one file that file requires), not to all of commander, so the
 * `--help` path loads neither Command nor what Command requires. The program still gets all of
 * commander, with this same Help, from the same files.
 */
const helpClassAlone = {
  name: 'help-class-alone',
  setup(b) {
    b.onResolve({ filter: /^@commander-js\/extra-typings$/ }, (args) =>
      args.importer.endsWith(join('src', 'cli', 'fast-help.ts'))
        ? { path: join(root, 'node_modules', 'commander', 'lib', 'help.js') }
        : undefined,
    );
  },
};

/** Whether Node loads `file` as CommonJS: .cjs, or .js under a package.json without "type": "module". */
function isCommonJs(file) {
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) return JSON.parse(readFileSync(pkg, 'utf8')).type !== 'module';
  }
  return true;
}

/**
 * `await import('yaml')` of a CommonJS package gives, in Node, a namespace with `default` (its
 * module.exports) and its exports by name. Split by esbuild, the package becomes a chunk that
 * exports `default` alone (esbuild issue #3245: an ES module chunk cannot hold exports that
 * are known only at run time), so `const { parseAllDocuments } = await import('yaml')` got
 * undefined. Every dynamic import of a CommonJS file therefore goes through a small ES module
 * that requires it and exports `default` and each name it exports, as Node's namespace does;
 * the names are taken by requiring the package here, at build time. The check below
 * (check-dynamic-imports.mjs) fails the build if an importer still uses a name its chunk lacks.
 */
export const commonJsNamespace = {
  name: 'commonjs-namespace',
  setup(b) {
    const facade = 'commonjs-namespace';
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.pluginData === facade) return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: facade,
      });
      if (resolved.errors.length > 0 || resolved.external || !isCommonJs(resolved.path)) return undefined;
      return { path: relative(root, resolved.path), namespace: facade };
    });
    b.onLoad({ filter: /.*/, namespace: facade }, (args) => {
      const file = join(root, args.path);
      const names = Object.keys(createRequire(file)(file)).filter(
        (n) => n !== 'default' && n !== '__esModule',
      );
      const lines = [`const m = require(${JSON.stringify(file)});`, 'export default m;'];
      for (const [i, name] of names.entries()) {
        lines.push(
          `const e${i} = m[${JSON.stringify(name)}];`,
          `export { e${i} as ${JSON.stringify(name)} };`,
        );
      }
      return { contents: lines.join('\n'), loader: 'js', resolveDir: dirname(file) };
    });
  },
};

/**
 * Bundles the CLI into `outdir` (emptied first) and returns esbuild's metafile. `format` 'cjs'
 * is what ships (split as ESM, each file then CommonJS); 'esm' writes esbuild's ES modules as
 * they are (.mjs) and `splitting: false` one file per entry: the other start-up pipelines,
 * which test/bench/pipeline.bench.mjs measures side by side.
 */
export async function buildBundle({ outdir, format = 'cjs', splitting = true }) {
  await rm(outdir, { recursive: true, force: true });
  const esm = format === 'esm';
  const result = await build({
    absWorkingDir: root,
    // bin/access.cjs answers `--help` with fast-help and a template (below) alone.
    entryPoints: {
      access: 'src/cli/main.ts',
      'fast-help': 'src/cli/fast-help.ts',
    },
    outdir,
    // Named as written already, so the imports between chunks name the files as they are.
    outExtension: { '.js': esm ? '.mjs' : '.cjs' },
    write: false,
    bundle: true,
    splitting,
    format: 'esm',
    platform: 'node',
    target: TARGET,
    // Chunks sit next to the entry: program.ts finds package.json two levels up from its file.
    chunkNames: '[name]-[hash]',
    minify: true,
    metafile: true,
    // An ES module has no `require` of its own for the CommonJS dependencies' requires.
    banner: esm
      ? { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" }
      : undefined,
    // grpc-js (in the server's chunk only; the client speaks gRPC over node:http2) requires
    // proto-loader (and protobufjs) only to serve channelz, which nothing here does; kept
    // external, that require would resolve from node_modules if it ever ran.
    external: ['@grpc/proto-loader'],
    logLevel: 'warning',
    plugins: [lazyChildProcess, helpClassAlone, commonJsNamespace],
  });
  // Unsplit, esbuild inlines what a dynamic import loads, with Node's interop for CommonJS.
  const problems = splitting ? await checkDynamicImports(result.metafile, root) : [];
  if (problems.length > 0) {
    throw new Error(`dynamic imports lack names their importers use:\n  ${problems.join('\n  ')}`);
  }
  await mkdir(outdir, { recursive: true });
  for (const file of result.outputFiles) {
    await mkdir(dirname(file.path), { recursive: true });
    if (esm) {
      await writeFile(file.path, file.text);
      continue;
    }
    const usesMetaUrl = file.text.includes('import.meta.url');
    const cjs = await transform(file.text, {
      format: 'cjs',
      platform: 'node',
      target: TARGET,
      minify: true,
      // A dynamic import of a chunk becomes a deferred require: `import()` would start the ES
      // loader for a CommonJS file.
      supported: { 'dynamic-import': false },
      define: usesMetaUrl ? { 'import.meta.url': '__accessFileUrl' } : undefined,
      banner: usesMetaUrl
        ? "var __accessFileUrl=require('node:url').pathToFileURL(__filename).href;"
        : undefined,
      logLevel: 'warning',
    });
    await writeFile(file.path, cjs.code);
  }
  // The files' own package scope: Node looks for the nearest package.json on every require of a
  // chunk, and finds this one first instead of walking up to the project's.
  await writeFile(join(outdir, 'package.json'), `{ "type": "${esm ? 'module' : 'commonjs'}" }\n`);
  return result.metafile;
}

/** The help of every command, from the program as tsc built it: a file each, so `--help` reads only its own. */
export async function writeHelpTemplates(outdir) {
  const { helpTemplates } = await import('../dist/cli/docs/help-table.js');
  const { helpFileName } = await import('../dist/cli/fast-help.js');
  await mkdir(join(outdir, 'help'));
  for (const { path, template } of await helpTemplates()) {
    await writeFile(join(outdir, 'help', helpFileName(path)), JSON.stringify(template));
  }
}

if (process.argv[1] === import.meta.filename) {
  const outdir = join(root, 'dist', 'bundle');
  let metafile;
  try {
    metafile = await buildBundle({ outdir });
  } catch (err) {
    console.error(`bundle: ${err.message}`);
    process.exit(1);
  }
  await writeFile(join(root, 'dist', 'bundle-meta.json'), JSON.stringify(metafile));
  await writeHelpTemplates(outdir);
}
