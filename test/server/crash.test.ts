import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessRequestV3 } from '../../src/gen/teleport/legacy/types/types.js';
import { startServer } from '../../src/server/index.js';
import { buildPrivate, type PrivateBuild } from '../helpers/build.js';
import { connectIdentity, type TestClient } from '../helpers/grpc.js';

const CHILD = resolve(import.meta.dirname, '../helpers/server-child.mjs');
const TOTAL = 200;
const CLIENTS = 16;
const KILL_AFTER = 50;

let build: PrivateBuild;
let dir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  build = await buildPrivate();
  dir = await mkdtemp(join(tmpdir(), 'access-crash-'));
}, 120_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  await build?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

function spawnServer(dataDir: string): Promise<{ proc: ChildProcess; addr: string }> {
  const proc = spawn(process.execPath, [CHILD, join(build.dir, 'server', 'index.js'), dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${stderr}`)), 30_000);
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /READY (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ proc, addr: m[1] });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${stderr}`));
    });
  });
}

describe('crash safety', () => {
  it('keeps every acknowledged create when the server is killed with SIGKILL mid-burst', async () => {
    const dataDir = join(dir, 'data');
    const started = await spawnServer(dataDir);
    child = started.proc;
    const exited = new Promise<NodeJS.Signals | null>((r) =>
      started.proc.once('exit', (_code, signal) => r(signal)),
    );
    const clients: TestClient[] = [];
    for (let i = 0; i < CLIENTS; i++)
      clients.push(await connectIdentity(started.addr, join(dataDir, 'identities', 'alice.pem')));
    await Promise.all(clients.map((c) => c.call('ping', {})));

    const acked: string[] = [];
    let failed = 0;
    let next = 0;
    let killed = false;
    await Promise.all(
      clients.map(async (c) => {
        while (next < TOTAL) {
          next++;
          try {
            const req = await c.call(
              'createAccessRequestV2',
              AccessRequestV3.fromPartial({
                metadata: { name: randomUUID() },
                spec: { user: 'alice', roles: ['auditor'], requestReason: `burst ${next}` },
              }),
              5000,
            );
            acked.push(req.metadata!.name);
            if (acked.length >= KILL_AFTER && !killed) {
              killed = true;
              started.proc.kill('SIGKILL');
            }
          } catch {
            failed++;
          }
        }
      }),
    );
    for (const c of clients) c.close();
    expect(await exited).toBe('SIGKILL');
    child = undefined;
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(failed).toBeGreaterThan(0);

    // Restart in this process on the same directory (the dead child's lock is taken over).
    const server = await startServer({ dataDir, listen: '127.0.0.1:0' });
    try {
      const admin = await connectIdentity(server.addr, server.identityPath('admin'));
      const stored = new Set<string>();
      let startKey = '';
      do {
        const page = await admin.call('listAccessRequests', {
          filter: undefined,
          sort: 0,
          descending: false,
          limit: 64,
          startKey,
        });
        for (const r of page.accessRequests) stored.add(r.metadata!.name);
        startKey = page.nextKey;
      } while (startKey);
      admin.close();
      const lost = acked.filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      // Creates that got no reply may or may not have landed, but nothing beyond what was sent.
      expect(stored.size).toBeLessThanOrEqual(TOTAL);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
