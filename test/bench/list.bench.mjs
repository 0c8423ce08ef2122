import { randomUUID } from 'node:crypto';
// Listing benchmark (run after `npm run build`; `npm run bench` does both): `access request ls`
// over many requests, in JSON and in piped text, at two store sizes. ls pages through
// ListAccessRequests and writes each page as it arrives, so its live memory is bounded by a
// page: the last run caps node's old-generation heap at 16 MiB, which a CLI holding the whole
// list could not fit in. (Uncapped, V8 lets garbage pile up before collecting, so RSS alone
// grows with the output.) Prints figures; asserts nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessRequestV3 } from '../../dist/gen/teleport/legacy/types/types.js';
import { startServer } from '../../dist/server/index.js';
import { call, connect, runAccess } from './lib.mjs';

const SIZES = [2_000, 20_000];
const CLIENTS = 16;

const dir = await mkdtemp(join(tmpdir(), 'access-bench-list-'));
const server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
try {
  const alices = await Promise.all(
    Array.from({ length: CLIENTS }, () => connect(server.addr, server.identityPath('alice'))),
  );
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    NO_COLOR: '1',
    ACCESS_AUTH_SERVER: server.addr,
    ACCESS_IDENTITY: server.identityPath('admin'),
  };
  let stored = 0;
  for (const size of SIZES) {
    const start = performance.now();
    await Promise.all(
      alices.map(async (c) => {
        while (stored < size) {
          const i = stored++;
          await call(
            c,
            'createAccessRequestV2',
            AccessRequestV3.fromPartial({
              metadata: { name: randomUUID() },
              spec: { user: 'alice', roles: ['auditor'], requestReason: `list bench ${i}` },
            }),
          );
        }
      }),
    );
    console.log(`stored ${size} requests (${((performance.now() - start) / 1000).toFixed(1)} s to add them)`);
    for (const [label, args, nodeArgs] of [
      ['ls --format json', ['request', 'ls', '--format', 'json'], []],
      ['ls (text, piped)', ['request', 'ls'], []],
      [
        'ls --format json, old-space heap capped at 16 MiB',
        ['request', 'ls', '--format', 'json'],
        ['--max-old-space-size=16'],
      ],
    ]) {
      const r = await runAccess(args, env, nodeArgs);
      const mib = r.stdoutBytes / 1024 / 1024;
      console.log(
        `  ${label}: ${(r.ms / 1000).toFixed(2)} s, ${mib.toFixed(1)} MiB written, CLI peak RSS ${r.rss.toFixed(0)} MiB`,
      );
    }
  }
  for (const c of alices) c.close();
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
