/**
 * ListResources for AWS Identity Center kinds on the wire, with the demo seed: the shapes
 * Teleport sends (lib/services/unified_resource.go: MakePaginatedResource) and who sees them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeepPartial,
  ListResourcesRequest,
} from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { connectIdentity, type TestClient } from '../helpers/grpc.js';

let dir: string;
let server: RunningServer;
const c: Record<string, TestClient> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-ic-wire-'));
  server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
  for (const user of ['alice', 'bob'])
    c[user] = await connectIdentity(server.addr, server.identityPath(user));
});

afterAll(async () => {
  for (const x of Object.values(c)) x.close();
  await server?.stop({ graceMs: 1000 });
  await rm(dir, { recursive: true, force: true });
});

const listRes = (user: string, req: DeepPartial<ListResourcesRequest>) =>
  c[user].call('listResources', ListResourcesRequest.fromPartial(req));

describe('ListResources aws_ic_account / aws_ic_account_assignment (demo seed)', () => {
  it('an account is an AppServer whose app has sub-kind aws_ic_account and the account ID', async () => {
    const res = await listRes('alice', { resourceType: 'aws_ic_account', useSearchAsRoles: true });
    expect(res.resources).toHaveLength(1);
    const arm = res.resources[0].resource;
    expect(arm?.$case).toBe('appServer');
    if (arm?.$case !== 'appServer') return;
    expect(arm.value).toMatchObject({
      kind: 'app_server',
      metadata: { name: 'aws-staging', description: 'Staging' },
    });
    expect(arm.value.spec?.app).toMatchObject({
      kind: 'app',
      subKind: 'aws_ic_account',
      metadata: { name: 'aws-staging' },
      spec: {
        uri: 'https://d-906700a1b2.awsapps.com/start',
        aws: { externalId: '111111111111' },
        identityCenter: { accountId: '111111111111' },
      },
    });
  });

  it('an assignment has its own arm (16) with the account and the permission set', async () => {
    const res = await listRes('alice', { resourceType: 'aws_ic_account_assignment', useSearchAsRoles: true });
    expect(res.resources).toHaveLength(1);
    const arm = res.resources[0].resource;
    expect(arm?.$case).toBe('identityCenterAccountAssignment');
    if (arm?.$case !== 'identityCenterAccountAssignment') return;
    expect(arm.value).toMatchObject({
      kind: 'aws_ic_account_assignment',
      version: 'v1',
      metadata: { name: '111111111111--ReadOnly' },
      displayName: '"ReadOnly" on "Staging"',
      account: { id: '111111111111', accountName: 'Staging' },
      permissionSet: { arn: 'arn:aws:sso:::permissionSet/ssoins-example/ps-readonly', name: 'ReadOnly' },
    });
  });

  it('only through search_as_roles that name the account; bob may search nothing', async () => {
    for (const resourceType of ['aws_ic_account', 'aws_ic_account_assignment']) {
      expect((await listRes('alice', { resourceType })).resources).toEqual([]);
      expect((await listRes('bob', { resourceType, useSearchAsRoles: true })).resources).toEqual([]);
    }
  });
});
