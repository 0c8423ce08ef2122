/**
 * Issue 22 finding 5: a failed write to stdout other than EPIPE is an error. `> /dev/full`
 * used to exit 0 with the output lost; it now exits 1 saying why. (The process, not a fake
 * IO: it is the real stdout's failure that is tested.)
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startTestServer, type TestServer } from '../helpers/e2e.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

/** Runs the bin with stdout on /dev/full; resolves with its exit code and stderr. */
function toDevFull(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const full = openSync('/dev/full', 'w');
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', full, 'pipe'] });
  closeSync(full);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe.runIf(process.platform === 'linux')('stdout on a full device', () => {
  it.each([
    ['request ls', ['request', 'ls']],
    ['completion bash', ['completion', 'bash']],
    ['fast help', ['request', 'ls', '--help']],
  ])('%s: exit 1 with the reason, not 0', async (_name, args) => {
    const r = await toDevFull(args, server.env('alice'));
    expect(r.stderr).toBe('error: cannot write to standard output: no space left on device\n');
    expect(r.code).toBe(1);
  });
});
