#!/usr/bin/env node
'use strict';
// CommonJS, like the bundle it runs: Node 20 starts its ES module loader only for ES modules.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'dist', 'bundle');
const argv = process.argv.slice(2);

/**
 * `access [command...] --help` printed from its template without loading the program
 * (fast-help.ts); false when the program must answer (not a command path and `--help`, a
 * typo, an alias). fast-help loads only when the last word asks for help.
 */
function printedFastHelp() {
  const last = argv[argv.length - 1];
  if (last !== '--help' && last !== '-h') return false;
  const { handleStdoutErrors, fastHelp, helpFileName } = require(join(bundle, 'fast-help.cjs'));
  const help = fastHelp(argv, process.stdout, (path) => {
    try {
      return JSON.parse(readFileSync(join(bundle, 'help', helpFileName(path)), 'utf8'));
    } catch {
      return undefined;
    }
  });
  if (help === undefined) return false;
  handleStdoutErrors(process.stdout);
  process.stdout.write(help);
  return true;
}

if (!printedFastHelp()) {
  // Node's on-disk compile cache (>= 22.1): V8's compiled code of the bundle's files, kept from
  // the first run of each file. Node 20 has none and compiles them every time.
  require('node:module').enableCompileCache?.();
  const { main, systemIO } = require(join(bundle, 'access.cjs'));
  main(argv, systemIO()).then((code) => {
    process.exitCode = code;
  });
}
