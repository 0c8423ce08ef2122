// What each step of the start-up pipeline (ARCHITECTURE.md "Start-up") buys on each Node CI
// tests, measured side by side in one run (run after `npm run build`; `npm run bench` does
// both). The pipelines, each with a shim of its own like bin/access.cjs:
//
//   shipped       dist/bundle as built: split, CommonJS, Node's compile cache where it exists
//                 (as bin/access.cjs loads it)
//   cjs, no cache the same files without the compile cache
//   esm split     esbuild's split ES modules as they are (no CommonJS rewrite), compile cache
//                 where it exists
//   esm unsplit   one ES module file per entry, compile cache where it exists
//
// Each round runs every command of every pipeline on every runtime once, in turn, so a noisy
// machine slows them alike; the table shows medians, and each pipeline against the shipped one.
// `--rounds N` (default 15); `--this-node` measures this Node only. Prints figures; asserts nothing.
import { randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessRequestV3 } from '../../dist/gen/teleport/legacy/types/types.js';
import { startServer } from '../../dist/server/index.js';
import { buildBundle, writeHelpTemplates } from '../../scripts/bundle.mjs';
import { call, connect, pct, runProcess, runtimes } from './lib.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const roundsAt = process.argv.indexOf('--rounds');
const ROUNDS = roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : 15;
const LISTED = 50;

/** A shim like bin/access.cjs for a bundle in `../dist/bundle`: fast help, then the program. */
function shim({ esm, cache }) {
  const ext = esm ? 'mjs' : 'cjs';
  const head = esm
    ? `import nodeModule from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const bundle = join(import.meta.dirname, '..', 'dist', 'bundle');
const load = (file) => import(join(bundle, file));`
    : `'use strict';
const nodeModule = require('node:module');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const bundle = join(__dirname, '..', 'dist', 'bundle');
const load = (file) => require(join(bundle, file));`;
  const enable = {
    none: '',
    compile: 'nodeModule.enableCompileCache?.();',
  }[cache];
  return `${head}
(async () => {
  const argv = process.argv.slice(2);
  const last = argv.at(-1);
  let help;
  if (last === '--help' || last === '-h') {
    const { exitQuietlyOnEpipe, fastHelp, helpFileName } = await load('fast-help.${ext}');
    help = fastHelp(argv, process.stdout, (path) => {
      try {
        return JSON.parse(readFileSync(join(bundle, 'help', helpFileName(path)), 'utf8'));
      } catch {
        return undefined;
      }
    });
    if (help !== undefined) {
      exitQuietlyOnEpipe(process.stdout);
      process.stdout.write(help);
    }
  }
  if (help === undefined) {
    ${enable}
    const { main, systemIO } = await load('access.${ext}');
    process.exitCode = await main(argv, systemIO());
  }
})();
`;
}

/** A pipeline in its own directory laid out as the package is: package.json, bin/, dist/bundle/. */
async function pipeline(base, name, { esm, splitting, cache, shipped }) {
  const dir = join(base, name);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await cp(join(ROOT, 'package.json'), join(dir, 'package.json'));
  const bundle = join(dir, 'dist', 'bundle');
  if (shipped) {
    await cp(join(ROOT, 'dist', 'bundle'), bundle, { recursive: true });
  } else {
    await buildBundle({ outdir: bundle, format: esm ? 'esm' : 'cjs', splitting });
    await writeHelpTemplates(bundle);
  }
  const bin = join(dir, 'bin', esm ? 'access.mjs' : 'access.cjs');
  await writeFile(bin, shim({ esm, cache }));
  return { name, bin };
}

const median = (xs) =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );

const base = await mkdtemp(join(tmpdir(), 'access-bench-pipeline-'));
const server = await startServer({ dataDir: join(base, 'data'), listen: '127.0.0.1:0' });
try {
  const pipelines = [
    await pipeline(base, 'shipped', { shipped: true, cache: 'compile' }),
    await pipeline(base, 'cjs, no cache', { shipped: true, cache: 'none' }),
    await pipeline(base, 'esm split', { esm: true, splitting: true, cache: 'compile' }),
    await pipeline(base, 'esm unsplit', { esm: true, splitting: false, cache: 'compile' }),
  ];
  const alice = await connect(server.addr, server.identityPath('alice'));
  for (let i = 0; i < LISTED; i++) {
    await call(
      alice,
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles: ['auditor'], requestReason: `bench ${i}` },
      }),
    );
  }
  alice.close();

  const home = { PATH: process.env.PATH, HOME: base, NO_COLOR: '1' };
  const as = (user) => ({
    ...home,
    ACCESS_AUTH_SERVER: server.addr,
    ACCESS_IDENTITY: server.identityPath(user),
  });
  const commands = [
    ['--help', ['--help'], home],
    [`request ls (${LISTED})`, ['request', 'ls', '--format', 'json'], as('alice')],
    [
      'create --nowait',
      ['request', 'create', '--roles', 'auditor', '--reason', 'bench', '--nowait'],
      as('dave'),
    ],
  ];
  const rts = await runtimes();
  const cases = [];
  for (const rt of rts) {
    cases.push({
      rt,
      pipeline: 'node -e 0',
      command: '',
      run: () => runProcess(rt.node, ['-e', '0'], home, true),
    });
    for (const p of pipelines) {
      for (const [command, args, env] of commands) {
        cases.push({
          rt,
          pipeline: p.name,
          command,
          run: () => runProcess(rt.node, [p.bin, ...args], env, true),
        });
      }
    }
  }
  for (const c of cases) await c.run(); // the page cache, and each pipeline's compile cache
  const samples = cases.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of cases.entries()) samples[i].push(await c.run());
  }
  const ms = (rt, pipelineName, command, key = 'ms') =>
    median(
      samples[
        cases.findIndex((c) => c.rt === rt && c.pipeline === pipelineName && c.command === command)
      ].map((s) => s[key]),
    );

  // CPU time too: on a loaded machine it is far steadier than wall time.
  console.log(
    `start-up pipelines, medians of ${ROUNDS} rounds: wall ms / CPU ms (each x the shipped pipeline on the same runtime):`,
  );
  const cell = (t) => t.padEnd(30);
  console.log(`  ${'runtime'.padEnd(9)}${cell('pipeline')}${commands.map(([c]) => cell(c)).join('')}`);
  for (const rt of rts) {
    const floor = `${ms(rt, 'node -e 0', '').toFixed(0)} / ${ms(rt, 'node -e 0', '', 'cpuMs').toFixed(0)}`;
    console.log(`  ${rt.label.padEnd(9)}${cell('node -e 0')}${cell(floor)}`);
    for (const p of pipelines) {
      const cells = commands.map(([c]) => {
        const [wall, cpu] = [ms(rt, p.name, c), ms(rt, p.name, c, 'cpuMs')];
        if (p.name === 'shipped') return cell(`${wall.toFixed(0)} / ${cpu.toFixed(0)}`);
        const [wall0, cpu0] = [ms(rt, 'shipped', c), ms(rt, 'shipped', c, 'cpuMs')];
        return cell(
          `${wall.toFixed(0)} (${(wall / wall0).toFixed(2)}x) / ${cpu.toFixed(0)} (${(cpu / cpu0).toFixed(2)}x)`,
        );
      });
      console.log(`  ${rt.label.padEnd(9)}${cell(p.name)}${cells.join('')}`);
    }
  }
} finally {
  await server.stop();
  await rm(base, { recursive: true, force: true });
}
