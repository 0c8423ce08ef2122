/**
 * `teleport.users.v1.UsersService/GetUser` on the wire, with the demo seed: anyone reads
 * their own record, another user's needs `read` on `user` (the access-plugin role has it, for
 * rules on user.traits), secrets are refused, as lib/auth/users/usersv1/service.go does.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GetUserRequest, GetUserResponse } from '../../src/gen/teleport/users/v1/users_service.js';
import { UsersServiceClient } from '../../src/server/grpc-definitions.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { failure, parseIdentityPems } from '../helpers/grpc.js';

let dir: string;
let server: RunningServer;
const clients: UsersServiceClient[] = [];

async function as(user: string): Promise<(req: Partial<GetUserRequest>) => Promise<GetUserResponse>> {
  const pems = parseIdentityPems(await readFile(server.identityPath(user), 'utf8'));
  const client = new UsersServiceClient(
    server.addr,
    grpc.credentials.createSsl(
      Buffer.from(pems.caPems.join('')),
      Buffer.from(pems.keyPem),
      Buffer.from(pems.certPem),
    ),
    {
      'grpc.ssl_target_name_override': 'teleport.cluster.local',
      'grpc.default_authority': 'teleport.cluster.local',
    },
  );
  clients.push(client);
  return (req) =>
    new Promise((resolve, reject) =>
      client.getUser({ name: '', currentUser: false, withSecrets: false, ...req }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-users-'));
  server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
});

describe('UsersService.GetUser', () => {
  it('gives anyone their own record, by name or as the current user, with traits', async () => {
    const alice = await as('alice');
    for (const req of [{ name: 'alice' }, { currentUser: true }]) {
      const { user } = await alice(req);
      expect(user?.metadata?.name).toBe('alice');
      expect(user?.spec?.roles).toEqual(['requester', 'dba-requester']);
      expect(user?.spec?.traits?.values.team?.values).toEqual(['dev']);
    }
  });

  it('refuses another user without read on user, and serves it with the rule', async () => {
    const denied = await failure((await as('alice'))({ name: 'bob' }));
    expect([denied.code, denied.details]).toEqual([
      grpc.status.PERMISSION_DENIED,
      'access denied to perform action "read" on "user"',
    ]);
    const { user } = await (await as('access-plugin'))({ name: 'alice' });
    expect(user?.spec?.traits?.values.team?.values).toEqual(['dev']);
  });

  it('refuses secrets to anyone but the builtin Admin, before looking the user up', async () => {
    const err = await failure((await as('admin'))({ name: 'nobody', withSecrets: true }));
    expect([err.code, err.details]).toEqual([
      grpc.status.PERMISSION_DENIED,
      'this request can be only executed by an admin',
    ]);
  });

  it('answers NotFound for an unknown user and BadParameter for no name', async () => {
    const plugin = await as('access-plugin');
    const missing = await failure(plugin({ name: 'nobody' }));
    expect([missing.code, missing.details]).toEqual([grpc.status.NOT_FOUND, 'user "nobody" is not found']);
    const empty = await failure(plugin({}));
    expect([empty.code, empty.details]).toEqual([grpc.status.INVALID_ARGUMENT, 'missing user name']);
  });
});
