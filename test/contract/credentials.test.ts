/**
 * Credentials written by `access sign-helper` (issued by our server's GenerateUserCerts)
 * load with Teleport's official loaders, `client.LoadKeyPair` (the tctl auth sign
 * --format=tls trio) and `client.LoadIdentityFile` (--format=file), and authenticate for
 * what an access plugin does first: ping, list requests, watch requests.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { buildGo, ROOT, runGo } from './helpers.js';

/** Runs the built CLI (dist/, from `npm run build`) to completion, bounded. */
function runCli(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'access.cjs'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`access ${args.join(' ')} did not finish within ${timeoutMs}ms: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe('sign-helper credentials with the official Go loaders', () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    await buildGo('official-client');
    dir = await mkdtemp(join(tmpdir(), 'access-contract-'));
    server = await startServer({
      dataDir: join(dir, 'data'),
      listen: '127.0.0.1:0',
      clusterName: 'contract.local',
    });
  });

  afterAll(async () => {
    await server?.stop({ graceMs: 1000 });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const signHelper = (format: 'tls' | 'file', out: string) =>
    runCli([
      '--auth-server',
      server.addr,
      '-i',
      server.identityPath('admin'),
      'sign-helper',
      '--user',
      'access-plugin',
      '--format',
      format,
      '--out',
      out,
    ]);

  it('client.LoadKeyPair with the --format tls trio', async () => {
    const prefix = join(dir, 'auth');
    const signed = await signHelper('tls', prefix);
    expect(signed.code, signed.stderr).toBe(0);
    const go = await runGo('official-client', [
      '-addr',
      server.addr,
      '-cluster',
      server.clusterName,
      '-tls-cert',
      `${prefix}.crt`,
      '-tls-key',
      `${prefix}.key`,
      '-tls-cas',
      `${prefix}.cas`,
    ]);
    expect(go.stdout.trim(), go.stderr).toBe('ok load-key-pair');
    expect(go.code).toBe(0);
  });

  it('client.LoadIdentityFile with the --format file identity', async () => {
    const path = join(dir, 'plugin.pem');
    const signed = await signHelper('file', path);
    expect(signed.code, signed.stderr).toBe(0);
    const go = await runGo('official-client', [
      '-addr',
      server.addr,
      '-cluster',
      server.clusterName,
      '-identity',
      path,
    ]);
    expect(go.stdout.trim(), go.stderr).toBe('ok load-identity-file');
    expect(go.code).toBe(0);
  });
});
