/**
 * `request search --roles` shows each requestable role's description, as tsh does through
 * AuthService.ListRequestableRoles; the embedded server serves that RPC (paged, filtered by
 * keywords); an older server (Unimplemented) still gives the names through
 * GetAccessCapabilities.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Connection } from '../../src/client/connect.js';
import { RpcError } from '../../src/client/errors.js';
import { listRequestableRoles } from '../../src/client/roles.js';
import {
  type DeepPartial,
  ListRequestableRolesRequest,
} from '../../src/gen/teleport/legacy/client/proto/requestable_roles.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { expectSchema } from '../helpers/e2e.js';
import { connectIdentity, type TestClient } from '../helpers/grpc.js';
import { runCli } from '../helpers/run-cli.js';

let dir: string;
let server: RunningServer;
let alice: TestClient;

const cli = (user: string, argv: string[], extra: Parameters<typeof runCli>[1] = {}) =>
  runCli(argv, {
    ...extra,
    env: { HOME: dir, ACCESS_AUTH_SERVER: server.addr, ACCESS_IDENTITY: server.identityPath(user) },
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-roles-'));
  // The demo seed: alice may request auditor and dba, both with descriptions.
  server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  alice = await connectIdentity(server.addr, server.identityPath('alice'));
});

afterAll(async () => {
  alice?.close();
  await server?.stop({ graceMs: 500 });
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('search --roles', () => {
  test('text: a Role | Description table', async () => {
    const r = await cli('alice', ['request', 'search', '--roles']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        'Role     Description',
        'auditor  Read-only access everywhere',
        'dba      Database administration',
        '',
      ].join('\n'),
    );
  });

  test('on a narrow TTY the description wraps; the role name stays whole', async () => {
    const r = await cli('alice', ['request', 'search', '--roles'], { isTTY: true, columns: 32 });
    expect(r.code, r.stderr).toBe(0);
    const plain = r.stdout.replace(/\u001b\[[0-9;]*m/g, '');
    const lines = plain.trimEnd().split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(32);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.filter((l) => /^auditor\s/.test(l))).toHaveLength(1);
    // Continuation lines hold the rest of the description under its column, broken between words.
    expect(plain.replace(/\n {9}/g, ' ')).toContain('auditor  Read-only access everywhere');
  });

  test('JSON stays a list of names; --descriptions lists {role, description}', async () => {
    const names = await cli('alice', ['request', 'search', '--roles', '--format', 'json']);
    const list = JSON.parse(names.stdout) as unknown;
    expectSchema('roles', list);
    expect(list).toEqual(['auditor', 'dba']);
    const described = await cli('alice', [
      'request',
      'search',
      '--roles',
      '--descriptions',
      '--format',
      'json',
    ]);
    const objects = JSON.parse(described.stdout) as unknown;
    expectSchema('requestable-roles', objects);
    expect(objects).toEqual([
      { role: 'auditor', description: 'Read-only access everywhere' },
      { role: 'dba', description: 'Database administration' },
    ]);
  });

  test('--descriptions without --roles is a usage error', async () => {
    const r = await cli('alice', ['request', 'search', '--kind', 'node', '--descriptions']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--descriptions applies only to --roles');
  });
});

describe('ListRequestableRoles on the wire', () => {
  const call = (req: DeepPartial<ListRequestableRolesRequest>) =>
    alice.call('listRequestableRoles', ListRequestableRolesRequest.fromPartial(req));

  test('sorted by name, paged by page_token, the last page with no token', async () => {
    const first = await call({ pageSize: 1 });
    expect(first.roles).toEqual([{ name: 'auditor', description: 'Read-only access everywhere' }]);
    expect(first.nextPageToken).not.toBe('');
    const second = await call({ pageSize: 1, pageToken: first.nextPageToken });
    expect(second).toEqual({
      roles: [{ name: 'dba', description: 'Database administration' }],
      nextPageToken: '',
    });
    expect((await call({})).roles.map((r) => r.name)).toEqual(['auditor', 'dba']);
  });

  test('search keywords match the name or the description, case-insensitively', async () => {
    expect((await call({ filter: { searchKeywords: ['READ-ONLY'] } })).roles.map((r) => r.name)).toEqual([
      'auditor',
    ]);
    expect((await call({ filter: { searchKeywords: ['db', 'nothing'] } })).roles).toEqual([]);
  });
});

describe('an older server', () => {
  test('Unimplemented falls back to GetAccessCapabilities: names, empty descriptions', async () => {
    const conn = {
      identity: { username: 'alice' },
      auth: {
        listRequestableRoles: async () => {
          throw new RpcError('UNIMPLEMENTED', 'unknown method ListRequestableRoles');
        },
        getAccessCapabilities: async () => ({ requestableRoles: ['dba', 'auditor'] }),
      },
    } as unknown as Connection;
    expect(await listRequestableRoles(conn, {})).toEqual([
      { role: 'auditor', description: '' },
      { role: 'dba', description: '' },
    ]);
  });
});
