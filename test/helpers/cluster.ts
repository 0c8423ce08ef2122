/**
 * A throwaway embedded server on the demo seed plus extra YAML, with a raw gRPC client per
 * named user: for server tests that need a role or user the demo seed lacks.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_SEED_YAML } from '../../src/server/demo-seed.js';
import { type RunningServer, type StartServerOptions, startServer } from '../../src/server/index.js';
import { connectIdentity, type TestClient } from './grpc.js';

export interface Cluster {
  dir: string;
  server: RunningServer;
  c: Record<string, TestClient>;
  close(): Promise<void>;
}

export async function demoCluster(
  extraYaml: string,
  users: string[],
  opts: Partial<StartServerOptions> = {},
): Promise<Cluster> {
  const dir = await mkdtemp(join(tmpdir(), 'access-cluster-'));
  const seedFile = join(dir, 'seed.yaml');
  await writeFile(seedFile, `${DEMO_SEED_YAML}\n${extraYaml}`);
  const server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0', seedFile, ...opts });
  const c: Record<string, TestClient> = {};
  for (const user of users) c[user] = await connectIdentity(server.addr, server.identityPath(user));
  return {
    dir,
    server,
    c,
    async close() {
      for (const x of Object.values(c)) x.close();
      await server.stop({ graceMs: 500 });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
