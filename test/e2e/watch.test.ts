import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { WatchEvent } from '../../src/model/request.js';
import {
  access,
  createPendingAs,
  expectSchema,
  spawnCli,
  startAccess,
  startTestServer,
  type TestServer,
} from '../helpers/e2e.js';

let server: TestServer;
let alice: Record<string, string>;
let admin: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  alice = server.env('alice');
  admin = server.env('admin');
});

afterAll(async () => {
  await server?.close();
});

const createPending = (roles?: string, reason?: string) => createPendingAs(alice, roles, reason);

describe('watch', () => {
  // The spawned bundle, for a real SIGINT; the other watches run in-process.
  test('json: NDJSON events until Ctrl-C, which exits 0', async () => {
    const w = spawnCli(['request', 'watch', '--user', 'alice', '--format', 'json'], admin);
    await w.waitForStdout(/"type":"init"/);
    const req = await createPending('dba', 'watched');
    await w.waitForStdout(new RegExp(`"type":"put".*"id":"${req.id}"`));
    await access(['request', 'rm', req.id, '--force'], admin);
    await w.waitForStdout(new RegExp(`"type":"delete","request":null,"id":"${req.id}"`));
    w.child.kill('SIGINT');
    const exit = await w.exited();
    expect(exit.code).toBe(0);
    const events = exit.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as WatchEvent);
    for (const e of events) expectSchema('watch-event', e);
    expect(events[0]).toEqual({ type: 'init', request: null, id: '' });
    expect(events.find((e) => e.type === 'put')?.request).toMatchObject({
      id: req.id,
      user: 'alice',
      state: 'PENDING',
    });
  });

  test('text: one line per change, filtered by id', async () => {
    const req = await createPending();
    const w = startAccess(['request', 'watch', '--id', req.id], admin);
    await w.waitForStderr(/Watching access requests/);
    const other = await createPending();
    await access(['request', 'approve', req.id], admin);
    await w.waitForStdout(new RegExp(`^PUT ${req.id} alice APPROVED$`, 'm'));
    w.interrupt('SIGINT');
    const exit = await w.exited();
    expect(exit.code).toBe(0);
    expect(exit.stdout).not.toContain(other.id);
  });

  // Runs last in this file: it stops and restarts the shared server.
  test('a server restart is survived: a new init marks the reconnect, then events flow again', async () => {
    const w = startAccess(['request', 'watch', '--format', 'json'], admin);
    await w.waitForStdout(/"type":"init"/);
    await server.stop();
    await w.waitForStderr(/Connection to the server lost; reconnecting/);
    await server.restart();
    await w.waitForStdout(/"type":"init"[^\n]*\n[^\n]*"type":"init"/, 20_000);
    const req = await createPending('dba', 'after restart');
    await w.waitForStdout(new RegExp(`"type":"put".*"id":"${req.id}"`));
    w.interrupt('SIGINT');
    const exit = await w.exited();
    expect(exit.code).toBe(0);
    const events = exit.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as WatchEvent);
    for (const e of events) expectSchema('watch-event', e);
    expect(events.map((e) => e.type)).toEqual(['init', 'init', 'put']);
  });
});
