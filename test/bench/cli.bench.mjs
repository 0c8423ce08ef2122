// CLI start-up benchmark (run after `npm run build`; `npm run bench` does both): the targets
// of issue 12, measured side by side in one run so a noisy machine slows every variant
// alike. Each round runs every command once, in turn; the table shows medians and the ratio
// to an empty node process. Then `request ls --format json` over 10,000 and 100,000
// requests, with the CLI's CPU time and peak RSS. Prints figures; asserts nothing.
//
// The floor row is the least any Node client pays for a connecting command (test/bench/floor.cjs):
// node's start, TLS with a CA (Node 20 parses its bundled roots then) and HTTP/2, one call.
// The Go row is Teleport's official client listing the same requests
// (test/contract/go/cmd/official-client -list); it is skipped when Go is not installed.
// Every round runs each command on every Node CI tests (this one, 22 and 24: scripts/node-runtime.mjs),
// and the table at the end gives each runtime's figures against its own `node -e 0` and the Go client.
// `node test/bench/cli.bench.mjs --quick` skips the 10,000/100,000 part; `--this-node` the other runtimes.
// `--baseline DIR` also runs DIR's bin (another checkout, built) in every round and
// every large listing, labelled `(baseline)`, for before/after figures from one run.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AccessRequestV3 } from '../../dist/gen/teleport/legacy/types/types.js';
import { openRequestStore, startServer } from '../../dist/server/index.js';
import { call, connect, pct, runAccess, runProcess, runtimes } from './lib.mjs';

const ROUNDS = 15;
const LISTED = 100;
const LARGE = [10_000, 100_000];
const GO_DIR = join(import.meta.dirname, '..', 'contract', 'go');
const baselineAt = process.argv.indexOf('--baseline');
/** The baseline's entry: bin/access.cjs, or bin/access.js in checkouts from before the CommonJS bundle. */
function baselineBin(dir) {
  const bin = join(resolve(dir), 'bin');
  return existsSync(join(bin, 'access.cjs')) ? join(bin, 'access.cjs') : join(bin, 'access.js');
}
const BASELINE_BIN = baselineAt > 0 ? baselineBin(process.argv[baselineAt + 1]) : undefined;

/** Builds the Go baseline; undefined (with a note) when Go is missing or the build fails. */
function buildGoLister() {
  try {
    execFileSync('go', ['build', '-o', 'bin/', './cmd/official-client'], {
      cwd: GO_DIR,
      stdio: 'pipe',
      env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() },
    });
    return join(GO_DIR, 'bin', 'official-client');
  } catch (err) {
    console.log(`(no Go baseline: ${String(err.message).split('\n')[0]})`);
    return undefined;
  }
}

const median = (xs) =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );

/**
 * Adds copies of `template` (new IDs, creation times 1 ms apart) to the request log of a
 * stopped server until its user has `total` requests: far faster than one RPC per request,
 * and the server replays the log on its next start like any other.
 */
async function fillStore(dataDir, template, total) {
  const store = await openRequestStore(dataDir);
  try {
    const base = template.spec.created.getTime();
    let n = 0;
    for (const r of store.all()) if (r.spec.user === template.spec.user) n++;
    while (n < total) {
      const batch = [];
      for (let i = 0; i < 2_000 && n < total; i++, n++) {
        const req = AccessRequestV3.decode(AccessRequestV3.encode(template).finish());
        req.metadata.name = randomUUID();
        req.spec.created = new Date(base + n);
        batch.push(store.mutate(req.metadata.name, () => ({ op: 'put', value: req })));
      }
      await Promise.all(batch);
    }
  } finally {
    await store.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'access-bench-cli-'));
let server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
try {
  const alice = await connect(server.addr, server.identityPath('alice'));
  let firstId;
  for (let i = 0; i < LISTED; i++) {
    const created = await call(
      alice,
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles: ['auditor'], requestReason: `bench ${i}` },
      }),
    );
    firstId ??= created.metadata.name;
  }
  alice.close();

  const base = { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1' };
  const as = (user) => ({
    ...base,
    ACCESS_AUTH_SERVER: server.addr,
    ACCESS_IDENTITY: server.identityPath(user),
  });
  const goLister = buildGoLister();
  const node = (rt, args, env) => () => runProcess(rt.node, args, env, true);
  const access = (rt, args, env) => () => runAccess(args, env, [], rt.node);
  const baseline = (rt, args, env) => () => runProcess(rt.node, [BASELINE_BIN, ...args], env, true);
  const accessCases = [
    ['access --help', ['--help'], base],
    [
      `access request ls --format json (${LISTED} requests)`,
      ['request', 'ls', '--format', 'json'],
      as('alice'),
    ],
    // dave's requests stay out of alice's list, so every round lists the same 100.
    [
      'access request create --nowait',
      ['request', 'create', '--roles', 'auditor', '--reason', 'bench', '--nowait'],
      as('dave'),
    ],
    ['access request show ID', ['request', 'show', firstId], as('alice')],
  ];
  // Every runtime CI tests (scripts/node-runtime.mjs), each against its own `node -e 0`.
  const rts = await runtimes();
  const cases = [];
  for (const rt of rts) {
    cases.push([rt, 'node -e 0', node(rt, ['-e', '0'], base)]);
    // What Node itself costs a connecting command: TLS with a CA and HTTP/2, one call.
    cases.push([
      rt,
      'floor: node TLS + HTTP/2, one gRPC call, no CLI',
      node(rt, [join(import.meta.dirname, 'floor.cjs'), server.addr, server.identityPath('alice')], base),
    ]);
    for (const [label, args, env] of accessCases) {
      cases.push([rt, label, access(rt, args, env)]);
      if (BASELINE_BIN) cases.push([rt, `${label} (baseline)`, baseline(rt, args, env)]);
    }
  }
  const GO = `Go official client, same list (${LISTED} requests)`;
  if (goLister) {
    cases.push([
      undefined,
      GO,
      () =>
        runProcess(
          goLister,
          ['-list', '-addr', server.addr, '-identity', server.identityPath('alice')],
          base,
        ),
    ]);
  }

  for (const [, , run] of cases) await run(); // warm the page cache and Node's compile cache
  const samples = cases.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [, , run]] of cases.entries()) samples[i].push(await run());
  }
  const medianOf = (rt, label, key = 'ms') =>
    median(samples[cases.findIndex(([r, l]) => r === rt && l === label)].map((s) => s[key]));
  const goMs = goLister ? medianOf(undefined, GO) : Number.NaN;
  console.log(`start-up, median of ${ROUNDS} rounds (ratio to \`node -e 0\` of the same runtime):`);
  for (const [i, [rt, label]] of cases.entries()) {
    const ms = median(samples[i].map((s) => s.ms));
    const rss = Math.max(...samples[i].map((s) => s.rss));
    const rssText = Number.isNaN(rss) ? '' : `, peak RSS ${rss.toFixed(0)} MiB`;
    if (!rt) {
      console.log(`  ${label}: ${ms.toFixed(0)} ms${rssText}`);
      continue;
    }
    const nodeMs = medianOf(rt, 'node -e 0');
    const nodeCpu = medianOf(rt, 'node -e 0', 'cpuMs');
    // CPU time is steadier than wall time on a loaded machine; node children report it.
    const cpu = median(samples[i].map((s) => s.cpuMs));
    const cpuText = Number.isNaN(cpu) ? '' : `, CPU ${cpu.toFixed(0)} ms (${(cpu / nodeCpu).toFixed(2)}x)`;
    console.log(
      `  ${rt.label}, ${label}: ${ms.toFixed(0)} ms, ${(ms / nodeMs).toFixed(2)}x${cpuText}${rssText}`,
    );
  }

  // The table a runtime's regression shows in: per runtime, each command against that
  // runtime's empty process and against the official Go client's listing.
  const columns = [
    ['--help', 'access --help'],
    ['request ls', accessCases[1][0]],
    ['create --nowait', 'access request create --nowait'],
  ];
  const cell = (text) => text.padEnd(30);
  console.log(
    `\nstart-up table, median ms (x \`node -e 0\` of the runtime, x Go client ${goLister ? `${goMs.toFixed(0)} ms` : 'n/a'}):`,
  );
  console.log(`  ${'runtime'.padEnd(10)}${cell('node -e 0')}${columns.map(([h]) => cell(h)).join('')}`);
  for (const rt of rts) {
    const nodeMs = medianOf(rt, 'node -e 0');
    const nodeCpu = medianOf(rt, 'node -e 0', 'cpuMs');
    const cells = columns.map(([, label]) => {
      const ms = medianOf(rt, label);
      const go = goLister ? `, ${(ms / goMs).toFixed(1)}x Go` : '';
      return cell(`${ms.toFixed(0)} (${(ms / nodeMs).toFixed(2)}x${go})`);
    });
    const cpu = columns.map(([, label]) => {
      const ms = medianOf(rt, label, 'cpuMs');
      return cell(`${ms.toFixed(0)} (${(ms / nodeCpu).toFixed(2)}x)`);
    });
    console.log(`  ${rt.label.padEnd(10)}${cell(nodeMs.toFixed(0))}${cells.join('')}`);
    // CPU time, steadier than wall time on a loaded machine (the Go client's is not measured).
    console.log(`  ${'  CPU'.padEnd(10)}${cell(nodeCpu.toFixed(0))}${cpu.join('')}`);
  }

  if (!process.argv.includes('--quick')) {
    console.log(`request ls --format json as alice, CLI CPU time and peak RSS (one run each):`);
    const rows = [];
    for (const size of LARGE) {
      await server.stop();
      const store = await openRequestStore(dir);
      const tmpl = store.get(firstId);
      await store.close();
      const start = performance.now();
      await fillStore(dir, tmpl, size);
      const fillS = (performance.now() - start) / 1000;
      server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
      const lsArgs = ['request', 'ls', '--format', 'json'];
      const r = await runAccess(lsArgs, as('alice'));
      rows.push({ size, ...r });
      console.log(
        `  ${size} requests: CPU ${(r.cpuMs / 1000).toFixed(2)} s, peak RSS ${r.rss.toFixed(0)} MiB, wall ${(r.ms / 1000).toFixed(2)} s, ${(r.stdoutBytes / 2 ** 20).toFixed(0)} MiB written (store filled in ${fillS.toFixed(1)} s)`,
      );
      if (BASELINE_BIN) {
        const b = await baseline(lsArgs, as('alice'))();
        console.log(
          `  ${size} requests (baseline): CPU ${(b.cpuMs / 1000).toFixed(2)} s, peak RSS ${b.rss.toFixed(0)} MiB, wall ${(b.ms / 1000).toFixed(2)} s, ${(b.stdoutBytes / 2 ** 20).toFixed(0)} MiB written`,
        );
      }
    }
    const [a, b] = rows;
    console.log(
      `  CPU per 1,000 requests: ${((a.cpuMs / a.size) * 1000).toFixed(0)} ms at ${a.size}, ${((b.cpuMs / b.size) * 1000).toFixed(0)} ms at ${b.size}`,
    );
  }
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
