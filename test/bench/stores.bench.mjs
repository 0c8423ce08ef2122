// Rule and lock stores, and watches that never read (issue 22), on a server in its own process
// (run after `npm run build`; `npm run bench` does both). Prints figures; asserts nothing.
//  1. N Access Monitoring Rules created one by one: total time, the last 100 creates' mean,
//     the rule file's size and the server's RSS;
//  2. W watch streams that never read while requests are created: the server's RSS before
//     and after, and how many watches the server cut off.
// `node test/bench/stores.bench.mjs [rules] [watches]` (defaults 3655 and 400).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { connect as http2Connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Watch } from '../../dist/gen/teleport/legacy/client/proto/authservice.js';
import { AccessRequestV3 } from '../../dist/gen/teleport/legacy/types/types.js';
import { AccessMonitoringRulesServiceClient } from '../../dist/server/grpc-definitions.js';
import { call, connect } from './lib.mjs';

const RULES = Number(process.argv[2] ?? 3655);
const WATCHES = Number(process.argv[3] ?? 400);
const CHILD = resolve(import.meta.dirname, '../helpers/server-child.mjs');
const SERVER = resolve(import.meta.dirname, '../../dist/server/index.js');

async function rssMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

function spawnServer(dataDir) {
  const proc = spawn(process.execPath, [CHILD, SERVER, dataDir], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolvePromise, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\S+)\n/.exec(out);
      if (m) resolvePromise({ proc, addr: m[1] });
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

function amrClient(addr, identityText) {
  const blocks = identityText.match(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----\n?/g);
  const creds = grpc.credentials.createSsl(
    Buffer.from(blocks.slice(2).join('')),
    Buffer.from(blocks[0]),
    Buffer.from(blocks[1]),
  );
  return new AccessMonitoringRulesServiceClient(addr, creds, {
    'grpc.ssl_target_name_override': 'teleport.cluster.local',
  });
}

function rule(name) {
  return {
    kind: 'access_monitoring_rule',
    subKind: '',
    version: 'v1',
    metadata: { name, namespace: '', description: '', labels: {}, revision: '' },
    spec: {
      subjects: ['access_request'],
      states: [],
      condition: `access_request.spec.roles.contains("role-${name}")`,
      notification: { name: 'webhook', recipients: ['https://example.com/hook'] },
      desiredState: '',
      schedules: {},
    },
  };
}

/** Bytes of the files the rule store keeps in `dir`. */
async function ruleFileBytes(dir) {
  let total = 0;
  for (const f of await readdir(dir)) if (/rules/.test(f)) total += (await stat(join(dir, f))).size;
  return total;
}

const dir = await mkdtemp(join(tmpdir(), 'access-bench-stores-'));
const { proc, addr } = await spawnServer(join(dir, 'data'));
try {
  const adminText = await readFile(join(dir, 'data', 'identities', 'admin.pem'), 'utf8');
  const amr = amrClient(addr, adminText);
  const t0 = performance.now();
  let lastStart = t0;
  for (let i = 0; i < RULES; i++) {
    if (i === RULES - 100) lastStart = performance.now();
    await call(amr, 'createAccessMonitoringRule', { rule: rule(`r${String(i).padStart(5, '0')}`) });
  }
  const total = (performance.now() - t0) / 1000;
  const lastMean = (performance.now() - lastStart) / Math.min(100, RULES);
  console.log(
    `${RULES} rules created one by one: ${total.toFixed(1)} s, last 100 ${lastMean.toFixed(1)} ms each, ` +
      `rule files ${((await ruleFileBytes(join(dir, 'data'))) / 2 ** 20).toFixed(1)} MiB, server RSS ${(await rssMiB(proc.pid)).toFixed(0)} MiB`,
  );
  amr.close();

  // Watches that never read: raw HTTP/2 streams whose data is never consumed.
  const pems = adminText.match(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----\n?/g);
  const before = await rssMiB(proc.pid);
  const body = Buffer.from(
    Watch.encode(Watch.fromPartial({ kinds: [{ kind: 'access_request', filter: {} }] })).finish(),
  );
  const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
  framed.writeUInt32BE(body.length, 1);
  const sessions = [];
  const streams = [];
  let cut = 0;
  let opened = 0;
  for (let i = 0; i < WATCHES; i++) {
    const session = http2Connect(`https://${addr}`, {
      key: pems[0],
      cert: pems[1],
      ca: pems.slice(2).join(''),
      servername: 'teleport.cluster.local',
      // The smallest windows a client may offer: what it does not read stays on the server.
      settings: { initialWindowSize: 65535 },
    });
    session.on('error', () => {});
    const stream = session.request({
      ':method': 'POST',
      ':path': '/proto.AuthService/WatchEvents',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.on('error', () => {});
    stream.on('response', () => opened++);
    stream.on('trailers', (t) => {
      if (t['grpc-status'] === '8') cut++;
    });
    stream.pause();
    stream.end(framed);
    sessions.push(session);
    streams.push(stream);
  }
  const alice = await connect(addr, join(dir, 'data', 'identities', 'alice.pem'));
  const reason = 'r'.repeat(2000);
  for (let i = 0; i < 600; i++) {
    await call(
      alice,
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles: ['dba'], requestReason: reason },
      }),
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = await rssMiB(proc.pid);
  // A paused stream is told of its end only once it reads again.
  await new Promise((r) => {
    let open = streams.length;
    const timer = setTimeout(r, 20_000);
    for (const st of streams) {
      st.once('close', () => {
        if (--open === 0) {
          clearTimeout(timer);
          r();
        }
      });
      st.resume();
    }
  });
  console.log(
    `${opened} of ${WATCHES} watches open and never reading, 600 requests (2 KB reason) created: server RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB; ${cut} watches cut off (ResourceExhausted)`,
  );
  alice.close();
  for (const s of sessions) s.destroy();
} finally {
  proc.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
}
