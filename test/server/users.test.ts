/**
 * UsersService.GetUser in the embedded server, as lib/auth/users/usersv1/service.go
 * (Service.GetUser) authorizes it: a user reads themselves, another user needs `read` on
 * `user`, secrets only for the builtin Admin role; the current user when asked for. Through
 * the client's `userTraits` and `probeUserReadRight` (what the webhook bridge calls).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, connect } from '../../src/client/connect.js';
import { RpcError } from '../../src/client/errors.js';
import { probeUserReadRight } from '../../src/client/probes.js';
import { userTraits } from '../../src/client/users.js';
import { UsersServiceDefinition } from '../../src/gen/teleport/users/v1/users_service.js';
import { readIdentityFile } from '../../src/identity/identity-file.js';
import { type RunningServer, startServer } from '../../src/server/index.js';

let dir: string;
let server: RunningServer;
const conns: Record<string, Connection> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-users-'));
  server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  for (const user of ['alice', 'admin', 'access-plugin'])
    conns[user] = await connect({
      credentials: await readIdentityFile(server.identityPath(user)),
      authServer: server.addr,
    });
});

afterAll(async () => {
  for (const c of Object.values(conns)) c.close();
  await server.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<[string, string]> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RpcError);
    return [(err as RpcError).code, (err as RpcError).details];
  }
  throw new Error('expected a refusal');
}

const getUser = (as: string, req: { name?: string; currentUser?: boolean; withSecrets?: boolean }) =>
  conns[as].service(UsersServiceDefinition).getUser({
    name: req.name ?? '',
    currentUser: req.currentUser ?? false,
    withSecrets: req.withSecrets ?? false,
  });

describe('UsersService.GetUser', () => {
  it('a user reads their own traits without any rule; others need read on user', async () => {
    expect(await userTraits(conns.alice, 'alice')).toEqual({ logins: ['alice'], team: ['dev'] });
    expect(await refusal(userTraits(conns.alice, 'bob'))).toEqual([
      'PERMISSION_DENIED',
      'access denied to perform action "read" on "user"',
    ]);
    expect(await userTraits(conns.admin, 'bob')).toEqual({ logins: ['bob'], team: ['dba'] });
    expect(await userTraits(conns['access-plugin'], 'alice')).toEqual({ logins: ['alice'], team: ['dev'] });
  });

  it('the current user, a missing user, secrets, no name', async () => {
    expect((await getUser('alice', { currentUser: true })).user?.metadata?.name).toBe('alice');
    expect(await refusal(getUser('admin', { name: 'nobody' }))).toEqual([
      'NOT_FOUND',
      'user "nobody" is not found',
    ]);
    expect(await refusal(getUser('admin', { name: 'alice', withSecrets: true }))).toEqual([
      'PERMISSION_DENIED',
      'this request can be only executed by an admin',
    ]);
    expect(await refusal(getUser('admin', {}))).toEqual(['INVALID_ARGUMENT', 'missing username']);
  });

  it('the probe tells who may read users without reading anyone', async () => {
    expect(await probeUserReadRight(conns.admin, {})).toBe(true);
    expect(await probeUserReadRight(conns.alice, {})).toBe(
      'access denied to perform action "read" on "user"',
    );
  });
});
