import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Capabilities } from '../../src/model/request.js';
import { access, accessJson, killSpawned, SEED, spawnCli } from '../helpers/e2e.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-server-e2e-'));
  await writeFile(join(dir, 'seed.yaml'), SEED);
});

afterAll(async () => {
  killSpawned();
  await rm(dir, { recursive: true, force: true });
});

const baseEnv = () => ({ PATH: process.env.PATH ?? '', HOME: dir });

describe('access server start', () => {
  test('prints the address and the export line, serves requests, and stops on SIGTERM with exit 0', async () => {
    const dataDir = join(dir, 'data');
    const srv = spawnCli(
      ['server', 'start', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--seed', join(dir, 'seed.yaml')],
      baseEnv(),
    );
    const addr = (await srv.waitForStdout(/^listening on (127\.0\.0\.1:\d+)$/m, 20_000))[1];
    const exportLine = (await srv.waitForStdout(/^export (.+)$/m))[1];
    expect(exportLine).toBe(
      `ACCESS_AUTH_SERVER=${addr} ACCESS_IDENTITY=${join(dataDir, 'identities', 'alice.pem')}`,
    );

    // The printed line is all a user needs.
    const env: Record<string, string> = { ...baseEnv() };
    for (const pair of exportLine.split(' ')) {
      const [k, v] = pair.split('=');
      env[k] = v;
    }
    const caps = await accessJson<Capabilities>(['request', 'caps'], env);
    expect(caps.requestable_roles).toEqual(['auditor', 'dba']);

    srv.child.kill('SIGTERM');
    const exit = await srv.exited();
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain('stopping...');
    // Nothing is listening any more: the server is unreachable (exit 8).
    const down = await access(['request', 'ls', '--rpc-timeout', '3s'], env);
    expect(down.code).toBe(8);
  });

  test('a seed file with an unknown field exits 2 naming it', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'kind: role\nversion: v7\nmetadata: { name: r }\nspec: { allow: { logins: [x], colour: red } }\n',
    );
    const exit = await access(
      ['server', 'start', '--data-dir', join(dir, 'bad-data'), '--listen', '127.0.0.1:0', '--seed', bad],
      baseEnv(),
    );
    expect(exit.code).toBe(2);
    expect(exit.stderr).toMatch(
      /^error: seed ".*bad.yaml" document 1 \(role "r"\): unknown field "spec.allow.colour"\n$/,
    );
  });
});
