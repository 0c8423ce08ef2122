/**
 * Direction 2: Teleport's official Go API client (`client.New` + `client.LoadIdentityFile`,
 * as tsh, tctl and access plugins use it) against our embedded server. The Go program runs
 * the whole workflow and prints `ok <step>` or `FAIL <step>: <error>` per step.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  'identity-center-resources',
  'rule-create',
  'rule-list',
  'rule-get',
  'rule-condition-language',
  'rule-condition-refused',
  'rule-refused-for-requester',
  'rule-delete',
];

describe('direction 2: the official Go client against our server', () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    await buildGo('official-client');
    dir = await mkdtemp(join(tmpdir(), 'access-contract-'));
    server = await startServer({ dataDir: dir, listen: '127.0.0.1:0', clusterName: 'contract.local' });
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
    ]);
    const lines = stdout.trim().split('\n');
    const failed = lines.find((l) => l.startsWith('FAIL'));
    expect(failed, `${stdout}\n${stderr}`).toBeUndefined();
    expect(lines, stderr).toEqual(STEPS.map((s) => `ok ${s}`));
    expect(code).toBe(0);
  });
});
