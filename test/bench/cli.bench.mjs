// CLI start-up benchmark (run after `npm run build`; `npm run bench` does both): wall time
// and peak RSS of whole `access` processes, for a command that makes no RPC (`--help`)
// and for `request ls` over mTLS against an embedded server. Prints figures; asserts nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../dist/server/index.js';
import { pct, runAccess } from './lib.mjs';

const RUNS = 15;

async function measure(label, args, env) {
  await runAccess(args, env);
  const samples = [];
  for (let i = 0; i < RUNS; i++) samples.push(await runAccess(args, env));
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const rss = Math.max(...samples.map((s) => s.rss));
  console.log(
    `${label}: p50 ${pct(ms, 50).toFixed(0)} ms, p90 ${pct(ms, 90).toFixed(0)} ms, peak RSS ${rss.toFixed(0)} MiB (${RUNS} runs)`,
  );
}

const dir = await mkdtemp(join(tmpdir(), 'access-bench-cli-'));
const server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
try {
  const env = { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1' };
  await measure('access --help', ['--help'], env);
  await measure('access request ls (mTLS, empty list)', ['request', 'ls'], {
    ...env,
    ACCESS_AUTH_SERVER: server.addr,
    ACCESS_IDENTITY: server.identityPath('alice'),
  });
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
