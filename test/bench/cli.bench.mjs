// CLI start-up benchmark (run after `npm run build`; `npm run bench` does both): wall time
// and peak RSS of whole `access` processes, for a command that makes no RPC (`--help`)
// and for `request ls` over mTLS against an embedded server. Prints figures; asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../dist/server/index.js';

const RUNS = 15;
// Preloaded into each child: reports its peak RSS (KiB) on stderr as it exits.
const REPORT_RSS =
  'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nrss="+process.resourceUsage().maxRSS+"\\n"))';
const bin = join(import.meta.dirname, '..', '..', 'bin', 'access.js');

/** Runs one `access` process; resolves with its wall time (ms) and peak RSS (MiB, from the child's own report). */
function once(args, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', REPORT_RSS, bin, ...args], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`access ${args.join(' ')} exited ${code}: ${stderr}`));
      const rss = Number(/rss=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024;
      resolve({ ms, rss });
    });
  });
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(label, args, env) {
  await once(args, env);
  const samples = [];
  for (let i = 0; i < RUNS; i++) samples.push(await once(args, env));
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
