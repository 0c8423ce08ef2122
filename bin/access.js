#!/usr/bin/env node
// Enable V8's on-disk compile cache where Node has one (≥ 22.1) before the bundle loads.
import module from 'node:module';

module.enableCompileCache?.();
const { main, systemIO } = await import('../dist/bundle/access.js');
process.exitCode = await main(process.argv.slice(2), systemIO());
