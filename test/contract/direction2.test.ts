/**
 * Direction 2: Teleport's official Go API client (`client.New` + `client.LoadIdentityFile`,
 * as tsh, tctl and access plugins use it) against our embedded server. The Go program runs
 * the whole workflow and prints `ok <step>` or `FAIL <step>: <error>` per step.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SEED_YAML } from '../../src/server/demo-seed.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { buildGo, runGo } from './helpers.js';

const STEPS = [
  'connect',
  'ping',
  'watch-refused-without-user-filter',
  'watch-own-requests',
  'create',
  'get-filtered',
  'get-v2-stream',
  'list-page-size',
  'list-resources-negative-limit',
  'watch-init',
  'review',
  'watch-put-approved',
  'set-state-denied',
  'delete',
  'generate-user-certs',
  'use-issued-certs',
  'impersonated-certs-refused',
  'locks',
  'get-user',
  'identity-center-resources',
  'rule-create',
  'rule-list',
  'rule-get',
  'rule-condition-language',
  'rule-condition-refused',
  'rule-refused-for-requester',
  'rule-delete',
  'second-pass-connect',
  'watch-delivery-by-kind-and-name',
  'explicit-deny-create-and-list',
  'create-non-pending-and-server-id',
  'search-keywords',
  'renewal-without-expiry',
  'role-impersonation',
];

/** Users the second-pass steps need beyond the demo seed (issue 21). */
const EXTRA_SEED = `
---
kind: role
version: v7
metadata: { name: no-create-list }
spec:
  deny:
    rules:
      - resources: [access_request]
        verbs: [create, list]
---
kind: role
version: v7
metadata: { name: ci-impersonator }
spec:
  allow:
    impersonate: { roles: [auditor] }
---
kind: user
version: v2
metadata: { name: denied }
spec: { roles: [requester, no-create-list] }
---
kind: user
version: v2
metadata: { name: ci }
spec: { roles: [requester, ci-impersonator] }
`;

describe('direction 2: the official Go client against our server', () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    await buildGo('official-client');
    dir = await mkdtemp(join(tmpdir(), 'access-contract-'));
    const seedFile = join(dir, 'seed.yaml');
    await writeFile(seedFile, `${DEMO_SEED_YAML}${EXTRA_SEED}`);
    server = await startServer({
      dataDir: join(dir, 'data'),
      listen: '127.0.0.1:0',
      clusterName: 'contract.local',
      seedFile,
    });
  });

  afterAll(async () => {
    await server?.stop({ graceMs: 1000 });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs the request → watch → review → approve → assume workflow', async () => {
    const { stdout, stderr, code } = await runGo('official-client', [
      '-addr',
      server.addr,
      '-cluster',
      server.clusterName,
      '-role',
      'dba',
      '-alice',
      server.identityPath('alice'),
      '-bob',
      server.identityPath('bob'),
      '-carol',
      server.identityPath('carol'),
      '-admin',
      server.identityPath('admin'),
      '-denied',
      server.identityPath('denied'),
      '-ci',
      server.identityPath('ci'),
    ]);
    const lines = stdout.trim().split('\n');
    const failed = lines.find((l) => l.startsWith('FAIL'));
    expect(failed, `${stdout}\n${stderr}`).toBeUndefined();
    expect(lines, stderr).toEqual(STEPS.map((s) => `ok ${s}`));
    expect(code).toBe(0);
  });
});
