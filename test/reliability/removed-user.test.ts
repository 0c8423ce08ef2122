/**
 * Issue 10 item 12: a user removed from the cluster keeps no rights with a certificate
 * issued before, as in Teleport (lib/authz/permissions.go: ContextForLocalUser fetches the
 * user first and fails with NotFound).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ListAccessRequestsRequest } from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import { AccessCapabilitiesRequest } from '../../src/gen/teleport/legacy/types/types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { connectIdentity, type TestClient } from '../helpers/grpc.js';

let dir: string;
let server: RunningServer | undefined;
const clients: TestClient[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-removed-user-'));
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop({ graceMs: 1000 });
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function client(user: string): Promise<TestClient> {
  const c = await connectIdentity(server!.addr, server!.identityPath(user));
  clients.push(c);
  return c;
}

describe('a user removed from the seed', () => {
  it('gets NotFound for every call with its old certificate; other users are unaffected', async () => {
    server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
    await server.stop();
    server = undefined;
    const seedPath = join(dir, 'seed.json');
    const seed = JSON.parse(await readFile(seedPath, 'utf8'));
    seed.users = seed.users.filter((u: { name: string }) => u.name !== 'alice');
    await writeFile(seedPath, JSON.stringify(seed));

    server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
    const alice = await client('alice');
    for (const call of [
      () =>
        alice.call(
          'getAccessCapabilities',
          AccessCapabilitiesRequest.fromPartial({ requestableRoles: true }),
        ),
      () => alice.call('listAccessRequests', ListAccessRequestsRequest.fromPartial({})),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 5, details: 'user "alice" is not found' });
    }
    const bob = await client('bob');
    await expect(
      bob.call('listAccessRequests', ListAccessRequestsRequest.fromPartial({})),
    ).resolves.toBeDefined();
  });
});
