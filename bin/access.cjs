#!/usr/bin/env node
'use strict';
// CommonJS, like the bundle it runs: Node 20 starts its ES module loader only for ES modules.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'dist', 'bundle');
const argv = process.argv.slice(2);
// `access [command...] --help` prints from its template without loading the program; a path
// without one (a typo, an alias) is the program's to answer.
const { exitQuietlyOnEpipe, fastHelp, helpFileName } = require(join(bundle, 'fast-help.cjs'));
const help = fastHelp(argv, process.stdout, (path) => {
  try {
    return JSON.parse(readFileSync(join(bundle, 'help', helpFileName(path)), 'utf8'));
  } catch {
    return undefined;
  }
});
if (help !== undefined) {
  exitQuietlyOnEpipe(process.stdout);
  process.stdout.write(help);
} else {
  // V8's on-disk compile cache: Node's own where it has one (>= 22.1), else the bundle's,
  // written at build time.
  const module = require('node:module');
  if (module.enableCompileCache) module.enableCompileCache();
  else require(join(bundle, 'code-cache.cjs')).installCodeCache(bundle);
  const { main, systemIO } = require(join(bundle, 'access.cjs'));
  main(argv, systemIO()).then((code) => {
    process.exitCode = code;
  });
}
