// Shared by the benchmarks (not a benchmark itself: run.mjs only runs *.bench.mjs).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AuthServiceClient } from '../../dist/server/grpc-definitions.js';
import { nodeRuntime, RUNTIMES } from '../../scripts/node-runtime.mjs';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'access.cjs');

/** A raw grpc-js AuthService client authenticated with one of the server's identity files. */
export async function connect(addr, identityPath) {
  const text = await readFile(identityPath, 'utf8');
  const blocks = text.match(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----\n?/g);
  const creds = grpc.credentials.createSsl(
    Buffer.from(blocks.slice(2).join('')),
    Buffer.from(blocks[0]),
    Buffer.from(blocks[1]),
  );
  return new AuthServiceClient(addr, creds, {
    'grpc.ssl_target_name_override': 'teleport.cluster.local',
    'grpc.use_local_subchannel_pool': 1,
  });
}

/** A unary call as a promise. */
export function call(client, method, req) {
  return new Promise((resolve, reject) =>
    client[method](req, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

/** The p-th percentile of an ascending array. */
export const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// Preloaded into each measured node child: reports its peak RSS (KiB) and CPU time (µs) on
// stderr as it exits. A CommonJS data URL is not accepted by --require, and an ESM --import
// would start the ESM loader even for `node -e 0`, so it is a small file.
const REPORT_USAGE =
  'process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("\\nusage="+u.maxRSS+","+(u.userCPUTime+u.systemCPUTime)+"\\n")})';
let reportFile;

async function usagePreload() {
  if (!reportFile) {
    const dir = await mkdtemp(join(tmpdir(), 'access-bench-usage-'));
    reportFile = join(dir, 'report-usage.cjs');
    await writeFile(reportFile, REPORT_USAGE);
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return reportFile;
}

/**
 * The runtimes to measure: this process's Node, then the others CI tests (scripts/node-runtime.mjs,
 * fetched when missing), each as { label, node }; only this one with `--this-node`.
 */
export async function runtimes() {
  const own = { label: `Node ${process.versions.node.split('.')[0]}`, node: process.execPath };
  if (process.argv.includes('--this-node')) return [own];
  const others = Object.keys(RUNTIMES).filter((major) => `Node ${major}` !== own.label);
  return [
    own,
    ...(await Promise.all(others.map(async (m) => ({ label: `Node ${m}`, node: await nodeRuntime(m) })))),
  ];
}

/**
 * Runs one process to completion; resolves with its wall time (ms), and for a node child
 * (`file` is process.execPath, or `isNode`) its peak RSS (MiB) and CPU time (ms) as it reports
 * them, plus its stdout byte count. Rejects on a non-zero exit.
 */
export async function runProcess(file, args, env, isNode = file === process.execPath) {
  const argv = isNode ? ['--require', await usagePreload(), ...args] : args;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdoutBytes = 0;
    child.stdout.on('data', (d) => {
      stdoutBytes += d.length;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr}`));
      const usage = /usage=(\d+),(\d+)/.exec(stderr);
      const rss = usage ? Number(usage[1]) / 1024 : Number.NaN;
      const cpuMs = usage ? Number(usage[2]) / 1000 : Number.NaN;
      resolve({ ms, rss, cpuMs, stdoutBytes });
    });
  });
}

/** Runs one `access` process (with extra `nodeArgs` for node itself); see {@link runProcess}. */
export function runAccess(args, env, nodeArgs = [], node = process.execPath) {
  return runProcess(node, [...nodeArgs, BIN, ...args], env, true);
}
