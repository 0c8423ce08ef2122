// Shared by the benchmarks (not a benchmark itself: run.mjs only runs *.bench.mjs).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AuthServiceClient } from '../../dist/gen/teleport/legacy/client/proto/authservice.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'access.js');

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

// Preloaded into each CLI child: reports its peak RSS (KiB) on stderr as it exits.
const REPORT_RSS =
  'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nrss="+process.resourceUsage().maxRSS+"\\n"))';

/**
 * Runs one `access` process to completion (with extra `nodeArgs` for node itself); resolves
 * with its wall time (ms), peak RSS (MiB, as the child reports it) and its stdout byte count.
 */
export function runAccess(args, env, nodeArgs = []) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [...nodeArgs, '--import', REPORT_RSS, BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
      if (code !== 0) return reject(new Error(`access ${args.join(' ')} exited ${code}: ${stderr}`));
      const rss = Number(/rss=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024;
      resolve({ ms, rss, stdoutBytes });
    });
  });
}
