// Bundles the CLI for `bin/access.js` (run by `npm run build`, after tsc): dist/bundle/access.js
// plus the chunks it imports on demand. One file holds what every command needs; what only
// some commands use (the connection, YAML, re-issue, the proxy bridge, tables on a TTY, the
// server) sits in chunks loaded by those commands' dynamic imports, so start-up reads and
// compiles only what the command runs. dist/bundle-meta.json is esbuild's metafile (which
// sources each output file holds) for the start-up guard test; it is not published.
import { rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'dist', 'bundle');

/**
 * Imports of Node built-ins become `require` through a small CommonJS module. An ES import
 * of a built-in makes Node build its ES facade, which reads every export: `node:fs` then
 * loads the whole streams stack for its ReadStream getter, and every facade costs time at
 * start-up. esbuild's interop reads exports only when used.
 */
const builtinsViaRequire = {
  name: 'builtins-via-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
      if (args.kind !== 'import-statement' && args.kind !== 'dynamic-import') return undefined;
      const name = args.path.replace(/^node:/, '');
      return builtinModules.includes(name) ? { path: name, namespace: 'builtin' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`,
      loader: 'js',
    }));
    // commander requires child_process (net, streams, ...) at load time for executable
    // subcommands, which this CLI has none of; it only calls spawn there, so loading waits.
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

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { access: 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Chunks sit next to the entry: program.ts finds package.json two levels up from its file.
  chunkNames: '[name]-[hash]',
  minify: true,
  metafile: true,
  // grpc-js (in the server's chunk only; the client speaks gRPC over node:http2) requires
  // proto-loader (and protobufjs) only to serve channelz, which nothing here does; kept
  // external, that require would resolve from node_modules if it ever ran.
  external: ['@grpc/proto-loader'],
  logLevel: 'warning',
  plugins: [builtinsViaRequire],
  // Bundled CommonJS packages (grpc-js, cli-table3) require Node built-ins; an ES module has
  // no `require` of its own.
  banner: {
    js: "import{createRequire as __accessRequire}from'node:module';const require=__accessRequire(import.meta.url);",
  },
});
await writeFile(join(root, 'dist', 'bundle-meta.json'), JSON.stringify(result.metafile));
