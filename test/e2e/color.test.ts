import { afterAll, beforeAll, expect, test } from 'vitest';
import { createPendingAs, runAccess, startTestServer, type TestServer } from '../helpers/e2e.js';

// Colour through the bundle with stdout a pipe, as `FORCE_COLOR=1 access request ls | cat -v`:
// README, `--help` and `access help environment` promise colour there when FORCE_COLOR asks.
let server: TestServer;
let bob: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  bob = server.env('bob');
  await createPendingAs(server.env('alice'), 'dba', 'colour');
});

afterAll(async () => {
  await server?.close();
});

const ESC = '\x1b[';
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

test('FORCE_COLOR=1: a piped table has a bold header and coloured states, aligned as without colour', async () => {
  const plain = await runAccess(['request', 'ls'], bob);
  const coloured = await runAccess(['request', 'ls'], { ...bob, FORCE_COLOR: '1' });
  expect(plain.code).toBe(0);
  expect(coloured.code).toBe(0);
  expect(plain.stdout).not.toContain(ESC);
  const [head, row] = coloured.stdout.split('\n');
  expect(head).toMatch(/^\x1b\[1mID\x1b\[22m +\x1b\[1mUser\x1b\[22m/);
  expect(row).toContain('\x1b[33mPENDING\x1b[39m');
  expect(strip(coloured.stdout)).toBe(plain.stdout);
});

test('NO_COLOR, FORCE_COLOR=0 and --no-color keep a piped table plain', async () => {
  for (const [env, args] of [
    [{ FORCE_COLOR: '1', NO_COLOR: '1' }, []],
    [{ FORCE_COLOR: '0' }, []],
    [{ FORCE_COLOR: '1' }, ['--no-color']],
  ] as const) {
    const r = await runAccess(['request', 'ls', ...args], { ...bob, ...env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PENDING');
    expect(r.stdout).not.toContain(ESC);
  }
});

test('FORCE_COLOR=1 never colours a JSON document', async () => {
  const r = await runAccess(['request', 'ls', '--format', 'json'], { ...bob, FORCE_COLOR: '1' });
  expect(r.code).toBe(0);
  expect(r.stdout).not.toContain(ESC);
  JSON.parse(r.stdout);
});
