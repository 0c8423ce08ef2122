/**
 * Issue 10 items 3, 7, 8 (server start) and 9: every bad input to `server start` is
 * refused with one line and the documented exit code before anything is written; an
 * existing directory is never silently re-initialised; a damaged log is reported at start
 * without --debug.
 */

import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startServer } from '../../src/server/index.js';
import { fakeIO, runCli } from '../helpers/run-cli.js';

let tmp: string;
let data: string;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'access-startup-'));
  data = join(tmp, 'data');
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const start = (...args: string[]) =>
  runCli(['server', 'start', '--data-dir', data, '--listen', '127.0.0.1:0', ...args]);

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** Everything under `dir` with its content, to show that a refused start changed nothing. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const p = join(entry.parentPath, entry.name);
      out[p] = (await readFile(p)).toString('base64');
    }
  }
  return out;
}

/** Initialises `data` with one stored request, then stops. */
async function initialised(): Promise<void> {
  const s = await startServer({ dataDir: data, listen: '127.0.0.1:0' });
  await s.stop();
}

/** Runs `server start` in-process until it prints its address, then stops it like Ctrl-C. */
async function runUntilListening(args: string[]): Promise<{ code: number; stderr: string }> {
  const controller = new AbortController();
  const io = fakeIO({ env: { HOME: tmp }, signal: controller.signal });
  const listening = new Promise<void>((resolve) => {
    const write = io.out.write.bind(io.out);
    io.out.write = (chunk: string) => {
      const r = write(chunk);
      if (/^listening on /m.test(io.out.text)) resolve();
      return r;
    };
  });
  const done = main(['server', 'start', '--data-dir', data, '--listen', '127.0.0.1:0', ...args], io);
  await Promise.race([listening, done]);
  controller.abort();
  return { code: await done, stderr: io.err.text };
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('hint: '));
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe('server start: bad input is refused before anything is written', () => {
  it.each([
    ['--listen bogus', ['--listen', 'bogus'], /^error: invalid listen address "bogus"/],
    ['port 99999', ['--listen', '127.0.0.1:99999'], /^error: invalid listen address/],
    ['cluster name a/b c', ['--cluster-name', 'a/b c'], /^error: invalid cluster name "a\/b c"/],
    [
      'host that does not resolve',
      ['--listen', 'no-such-host.invalid:0'],
      /^error: cannot listen on .*does not resolve/,
    ],
  ])('%s: exit 2, one line, no data dir', async (_name, args, line) => {
    const r = await start(...args);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(line);
    expect(await exists(data)).toBe(false);
  });

  it('a seed user named ../../etc/x: exit 2 naming it, no data dir', async () => {
    const seed = join(tmp, 'seed.yaml');
    await writeFile(seed, 'kind: user\nversion: v2\nmetadata: { name: ../../etc/x }\nspec: { roles: [] }\n');
    const r = await start('--seed', seed);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/user name "..\/..\/etc\/x" is not allowed/);
    expect(await exists(data)).toBe(false);
    expect(await readdir(tmp)).toEqual(['seed.yaml']);
  });

  it('a port in use: exit 1, one clean line (no grpc-js log), no data dir', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await runCli(['server', 'start', '--data-dir', data, '--listen', `127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `error: cannot listen on 127.0.0.1:${port}: the address is already in use; stop what uses it or pick another --listen\n`,
      );
      expect(await exists(data)).toBe(false);
    } finally {
      busy.close();
    }
  });

  it('a data dir under /proc/1: a one-line error at once, no busy loop', async () => {
    const r = await runCli(['server', 'start', '--data-dir', '/proc/1/nope/data', '--listen', '127.0.0.1:0']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^error: cannot use data directory \/proc\/1\/nope\/data: /);
  });

  it('a data dir path that is a file: one line, the file untouched', async () => {
    await writeFile(data, 'not a dir');
    const r = await start();
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`error: data directory ${data} is not a directory`);
    expect(await readFile(data, 'utf8')).toBe('not a dir');
  });
});

describe('server start on an existing data dir', () => {
  it('a missing cluster.json: refused, the log and CAs kept, nothing changed', async () => {
    await initialised();
    await rm(join(data, 'cluster.json'));
    const before = await snapshot(data);
    const r = await start();
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      /holds files but no cluster.json; nothing was changed: restore cluster.json/,
    );
    expect(await snapshot(data)).toEqual(before);
  });

  it('a corrupt CA key: refused at start with one line, nothing changed', async () => {
    await initialised();
    await writeFile(
      join(data, 'ca', 'user.key'),
      '-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n',
    );
    const before = await snapshot(data);
    const r = await start();
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      /ca\/user\.key is not a readable private key of .*ca\/user\.crt; restore the ca\//,
    );
    expect(await snapshot(data)).toEqual(before);
  });

  it.each([
    ['an empty object', '{}', /seed\.json is damaged \("roles" is not a list\)/],
    [
      'a user without roles',
      '{"roles":[],"users":[{"name":"x"}],"resources":[]}',
      /users\[0\] is not a user/,
    ],
    ['not JSON', '{', /seed\.json is not valid JSON/],
  ])('a corrupt seed.json (%s): a clear one-line error, not a TypeError', async (_name, text, line) => {
    await initialised();
    await writeFile(join(data, 'seed.json'), text);
    const r = await start();
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(line);
  });

  it('--seed is not ignored silently: start warns on stderr (without --debug), as Teleport does for --bootstrap', async () => {
    await initialised();
    const seed = join(tmp, 'seed.yaml');
    await writeFile(seed, 'kind: user\nversion: v2\nmetadata: { name: zed }\nspec: { roles: [] }\n');
    const r = await runUntilListening(['--seed', seed]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `warning: ignoring --seed ${seed}: data directory ${data} is already initialised`,
    );
    expect(await exists(join(data, 'identities', 'zed.pem'))).toBe(false);
  });

  it('a damaged request log is reported on stderr at start without --debug, naming the copy', async () => {
    const s = await startServer({ dataDir: data, listen: '127.0.0.1:0' });
    await s.stop();
    await writeFile(
      join(data, 'requests.log'),
      Buffer.concat([await readFile(join(data, 'requests.log')), Buffer.from('junk')]),
    );
    const r = await runUntilListening([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^warning: request log damaged: 0 records recovered, 4 bytes in 1 damaged range not replayable, copied to .*requests\.log\.damaged-\d+$/m,
    );
  });
});
