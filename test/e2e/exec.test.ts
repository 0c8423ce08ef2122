/**
 * `access exec`: the real binary runs a real child against the embedded server. The child
 * reports what it sees (its identity file, parsed with our own parser, and the file's
 * modes); afterwards the temporary identity must be gone, whatever way the child ended.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ExecDeps, exitCodeOf, parse, run } from '../../src/cli/commands/exec.js';
import { CliContext } from '../../src/cli/context.js';
import { parseIdentityFile } from '../../src/identity/identity-file.js';
import { parseIdentity } from '../../src/identity/x509.js';
import type { AccessRequest } from '../../src/model/request.js';
import type { IO } from '../../src/render/io.js';
import {
  copyIdentity,
  NODE_DB,
  NODE_WEB,
  ROOT,
  runAccess,
  spawnCli,
  startTestServer,
  type TestServer,
} from '../helpers/e2e.js';
import { type Capture, fakeIO, runCli } from '../helpers/run-cli.js';

let server: TestServer;
let alice: { path: string; env: Record<string, string> };
let aliceBytes: Buffer;

beforeAll(async () => {
  server = await startTestServer();
  alice = await copyIdentity(server, 'alice');
  aliceBytes = await readFile(alice.path);
});

afterAll(async () => {
  await server?.close();
});

/**
 * A child that prints, as one JSON line, what it was given: the identity path (both
 * variables), its roles and requests, and the modes of the file and its directory. Then it
 * exits with the code given as its last argument, or with `hang` waits to be signalled.
 */
const REPORT = `
const { readFileSync, statSync } = await import('node:fs');
const { dirname } = await import('node:path');
const { parseIdentityFile } = await import(${JSON.stringify(join(ROOT, 'dist/identity/identity-file.js'))});
const { parseIdentity } = await import(${JSON.stringify(join(ROOT, 'dist/identity/x509.js'))});
const last = process.argv.at(-1);
// Set up before the report is printed: the test signals as soon as it reads it.
if (last === 'hang') process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(0); });
const path = process.env.ACCESS_IDENTITY;
const id = parseIdentity(parseIdentityFile(readFileSync(path, 'utf8'), path).certPem);
console.log(JSON.stringify({
  path, tsh: process.env.TELEPORT_IDENTITY_FILE, pid: process.pid,
  user: id.username, roles: id.roles, active: id.activeRequests,
  mode: statSync(path).mode & 0o777, dirMode: statSync(dirname(path)).mode & 0o777,
}));
if (last === 'hang') setInterval(() => {}, 1000);
else process.exit(Number(last));
`;

function child(last: string | number): string[] {
  return ['--', process.execPath, '--input-type=module', '-e', REPORT, String(last)];
}

interface Report {
  path: string;
  tsh: string;
  pid: number;
  user: string;
  roles: string[];
  active: string[];
  mode: number;
  dirMode: number;
}

function reportOf(stdout: string): Report {
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`the child printed no report: ${stdout}`);
  return JSON.parse(line) as Report;
}

/** Alice's requests, read in-process (admin may list them all). */
async function aliceRequests(): Promise<AccessRequest[]> {
  const r = await runCli(['request', 'ls', '--user', 'alice', '-f', 'json'], { env: server.env('admin') });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as AccessRequest[];
}

/** Reviews in-process: only exec itself needs to be a real process. */
async function review(id: string, user: string, ...verdict: string[]): Promise<void> {
  const r = await runCli(['request', 'review', id, ...verdict], { env: server.env(user) });
  expect(r.code, r.stderr).toBe(0);
}

const CREATED = /Created access request (\S+) \(PENDING\)/;

describe('exec', () => {
  let DBA: string;

  test('creates a request, waits, and runs COMMAND with an identity carrying it; the file is gone after', async () => {
    const exec = spawnCli(['exec', '--roles', 'dba', '--reason', 'ticket 1', ...child(0)], alice.env);
    DBA = (await exec.waitForStderr(CREATED))[1];
    await exec.waitForStderr(/Waiting for approval from bob/);
    await review(DBA, 'bob', '--approve');
    const exit = await exec.exited();
    expect(exit.code, exit.stderr).toBe(0);
    const seen = reportOf(exit.stdout);
    expect(seen).toMatchObject({ user: 'alice', active: [DBA], mode: 0o600, dirMode: 0o700 });
    expect(seen.roles).toContain('dba');
    expect(seen.tsh).toBe(seen.path);
    expect(seen.path).not.toBe(alice.path);
    expect(existsSync(seen.path)).toBe(false);
    expect(existsSync(join(seen.path, '..'))).toBe(false);
    // The user's own identity was never re-issued.
    expect(await readFile(alice.path)).toEqual(aliceBytes);
  });

  test('a failing COMMAND: its exit code, the approved request reused, the file gone', async () => {
    const exit = await runAccess(['exec', '--roles', 'dba', '--reason', 'again', ...child(7)], alice.env);
    expect(exit.code, exit.stderr).toBe(7);
    expect(exit.stderr).toContain(`Using approved access request ${DBA}\n`);
    const seen = reportOf(exit.stdout);
    expect(seen.active).toEqual([DBA]);
    expect(existsSync(join(seen.path, '..'))).toBe(false);
    expect((await aliceRequests()).filter((r) => r.roles.includes('dba'))).toHaveLength(1);
  });

  test('SIGINT is passed to COMMAND; exec exits 128+2 and removes the file', async () => {
    const exec = spawnCli(['exec', '--roles', 'dba', '--reason', 'r', ...child('hang')], alice.env);
    const seen = reportOf((await exec.waitForStdout(/^\{.*\}$/m))[0]);
    expect(existsSync(seen.path)).toBe(true);
    // Only the exec process is signalled (not a process group): the child hears of it from exec.
    exec.child.kill('SIGINT');
    const exit = await exec.exited();
    expect(exit.code, exit.stderr).toBe(130);
    expect(existsSync(join(seen.path, '..'))).toBe(false);
    expect(() => process.kill(seen.pid, 0)).toThrow();
  });

  test('SIGTERM is passed to COMMAND, which decides the exit code', async () => {
    const exec = spawnCli(['exec', '--roles', 'dba', '--reason', 'r', ...child('hang')], alice.env);
    const seen = reportOf((await exec.waitForStdout(/^\{.*\}$/m))[0]);
    exec.child.kill('SIGTERM');
    const exit = await exec.exited();
    expect(exit.code, exit.stderr + exit.stdout).toBe(0);
    expect(exit.stdout).toContain('child got SIGTERM\n');
    expect(existsSync(join(seen.path, '..'))).toBe(false);
  });

  test('after kill -9 of exec, the next exec and drop remove the elevated identity it left', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'access-exec-tmp-'));
    // An identity of its own: drop re-issues it.
    const env = { ...(await copyIdentity(server, 'alice')).env, TMPDIR: tmp };
    try {
      const exec = spawnCli(['exec', '--roles', 'dba', '--reason', 'r', ...child('hang')], env);
      const first = await exec.waitForStderr(
        /Created access request (\S+) \(PENDING\)|Using approved access request/,
      );
      if (first[1]) await review(first[1], 'bob', '--approve');
      const seen = reportOf((await exec.waitForStdout(/^\{.*\}$/m))[0]);
      // exec first, so it cannot clean up; COMMAND holds exec's stdout until it dies too.
      exec.child.kill('SIGKILL');
      process.kill(seen.pid, 'SIGKILL');
      await exec.exited();
      expect(existsSync(seen.path)).toBe(true);
      // Another user's file and a directory of a live process are left alone.
      const live = join(tmp, `access-exec-${process.pid}-abcdef`);
      await mkdir(live);
      const again = await runAccess(['exec', '--roles', 'dba', '--reason', 'r', ...child(0)], env);
      expect(again.code, again.stderr).toBe(0);
      expect(existsSync(join(seen.path, '..'))).toBe(false);
      expect(existsSync(live)).toBe(true);

      const second = spawnCli(['exec', '--roles', 'dba', '--reason', 'r', ...child('hang')], env);
      const left = reportOf((await second.waitForStdout(/^\{.*\}$/m))[0]);
      second.child.kill('SIGKILL');
      process.kill(left.pid, 'SIGKILL');
      await second.exited();
      expect(existsSync(left.path)).toBe(true);
      const drop = await runAccess(['request', 'drop'], env);
      expect(drop.code, drop.stderr).toBe(0);
      expect(existsSync(join(left.path, '..'))).toBe(false);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  test('a second exec while the first waits reuses the same pending request', async () => {
    const first = spawnCli(['exec', '--roles', 'auditor', '--reason', 'audit', ...child(0)], alice.env);
    const id = (await first.waitForStderr(CREATED))[1];
    await first.waitForStderr(/Waiting for approval/);
    const second = spawnCli(['exec', '--roles', 'auditor', '--reason', 'audit too', ...child(0)], alice.env);
    await second.waitForStderr(new RegExp(`Reusing pending access request ${id}\n`));
    await second.waitForStderr(/Waiting for approval/);
    for (const reviewer of ['bob', 'carol']) {
      await review(id, reviewer, '--approve');
    }
    for (const exec of [first, second]) {
      const exit = await exec.exited();
      expect(exit.code, exit.stderr).toBe(0);
      expect(reportOf(exit.stdout).active).toEqual([id]);
    }
    expect((await aliceRequests()).filter((r) => r.roles.includes('auditor')).map((r) => r.id)).toEqual([id]);
  });

  test('a denied request exits 3 and COMMAND never runs', async () => {
    const resource = `/${server.cluster}/node/${NODE_WEB}`;
    const exec = spawnCli(['exec', '--resource', resource, '--reason', 'web', ...child(0)], alice.env);
    const id = (await exec.waitForStderr(CREATED))[1];
    await exec.waitForStderr(/Waiting for approval/);
    await review(id, 'bob', '--deny', '--reason', 'no');
    const exit = await exec.exited();
    expect(exit.code).toBe(3);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain(`error: request ${id} has been set to DENIED, reason="no"\n`);
  });

  test('Ctrl-C while waiting exits 130; COMMAND never runs and running exec again resumes', async () => {
    const resource = `/${server.cluster}/node/${NODE_DB}`;
    const exec = spawnCli(['exec', '--resource', resource, '--reason', 'db', ...child(0)], alice.env);
    const id = (await exec.waitForStderr(CREATED))[1];
    await exec.waitForStderr(/Waiting for approval/);
    exec.child.kill('SIGINT');
    const exit = await exec.exited();
    expect(exit.code).toBe(130);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain(`error: stopped waiting for request ${id}; it is still pending\n`);
    expect(exit.stderr).toContain('hint: resume with: the same `access exec` command');
    const again = spawnCli(['exec', '--resource', resource, '--reason', 'db', ...child(0)], alice.env);
    await again.waitForStderr(new RegExp(`Reusing pending access request ${id}\n`));
    again.child.kill('SIGINT');
    expect((await again.exited()).code).toBe(130);
  });

  test('an identity from tctl auth sign cannot assume: exit 9 and nothing is created', async () => {
    const signed = join(server.dir, 'alice-signed.pem');
    await server.server.signIdentity('alice', signed);
    const before = await aliceRequests();
    const exit = await runAccess(['exec', '--roles', 'dba', '--reason', 'r', ...child(0)], {
      ...alice.env,
      ACCESS_IDENTITY: signed,
    });
    expect(exit.code).toBe(9);
    expect(exit.stderr).toMatch(/^error: this identity cannot assume access requests: .* by /);
    expect(exit.stdout).toBe('');
    expect(await aliceRequests()).toEqual(before);
  });
});

describe('exec: bad input is one line, exit 2, and creates nothing', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'no COMMAND',
      ['exec', '--roles', 'dba', '--reason', 'r'],
      /^error: no command to run: give it after --$/,
    ],
    ['no COMMAND after --', ['exec', '--roles', 'dba', '--reason', 'r', '--'], /^error: no command to run/],
    [
      'an empty reason',
      ['exec', '--roles', 'dba', '--reason', '', '--', 'true'],
      /^error: --reason must not be empty/,
    ],
    [
      'a blank reason',
      ['exec', '--roles', 'dba', '--reason', '  ', '--', 'true'],
      /^error: --reason must not be empty/,
    ],
    ['no reason', ['exec', '--roles', 'dba', '--', 'true'], /^error: --reason is required/],
    [
      '--timeout 0',
      ['exec', '--roles', 'dba', '--reason', 'r', '--timeout', '0', '--', 'true'],
      /^error: --timeout must be greater than zero$/,
    ],
    ['nothing to request', ['exec', '--reason', 'r', '--', 'true'], /^error: at least one role or resource/],
    [
      'a bad resource ID',
      ['exec', '--resource', 'nope', '--reason', 'r', '--', 'true'],
      /^error: invalid resource ID/,
    ],
    [
      'a COMMAND that does not exist',
      ['exec', '--roles', 'dba', '--reason', 'r', '--', 'no-such-command-xyz'],
      /^error: command not found or not executable: "no-such-command-xyz"$/,
    ],
  ];
  let before: AccessRequest[];
  beforeAll(async () => {
    before = await aliceRequests();
  });
  test.each(cases)('%s', async (_label, argv, first) => {
    const r = await runCli(argv, { env: alice.env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(first);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(await aliceRequests()).toEqual(before);
    expect(await readFile(alice.path)).toEqual(aliceBytes);
  });
});

describe('exec in-process, with a stand-in child and lock', () => {
  /** Runs exec through its own run() with `io` extras, against an approved dba request. */
  async function execWith(
    extra: Partial<IO>,
    deps: ExecDeps,
    flags: Record<string, unknown> = {},
    onCreated?: (id: string) => void,
  ): Promise<{ result: Promise<number>; err: Capture }> {
    const io = fakeIO({ env: alice.env });
    if (onCreated) {
      // Reacts to the line that names the new request, as a person in another terminal would.
      const write = io.err.write.bind(io.err);
      io.err.write = (chunk: string) => {
        const id = chunk.match(CREATED)?.[1];
        if (id) onCreated(id);
        return write(chunk);
      };
    }
    const ctx = new CliContext({ ...io, ...extra });
    const opts = parse([[process.execPath, '-v']], { roles: ['dba'], reason: 'stand-in', ...flags });
    const result = run(ctx, opts, deps).finally(() => ctx.close());
    return { result, err: io.err };
  }

  beforeAll(async () => {
    const r = await runCli(
      ['request', 'create', '--roles', 'dba', '--reason', 'x', '--nowait', '-f', 'json'],
      {
        env: alice.env,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    await review((JSON.parse(r.stdout) as AccessRequest).id, 'bob', '--approve');
  });

  test('--lock uses a request of its own and locks it after COMMAND ended and its identity was removed', async () => {
    const before = await aliceRequests();
    let identity = '';
    let approved: Promise<void> | undefined;
    const locks: { id: string; ttl?: number; message?: string; fileLeft: boolean }[] = [];
    const { result, err } = await execWith(
      {
        spawnChild(_cmd, _args, env) {
          identity = env.ACCESS_IDENTITY;
          expect(env.ACCESS_AUTH_SERVER).toBe(server.addr);
          expect(existsSync(identity)).toBe(true);
          return { kill: () => false, exited: Promise.resolve({ code: 4, signal: null }) };
        },
      },
      {
        lockRequest: async (_conn, id, opts) => {
          locks.push({ id, ...opts, fileLeft: existsSync(identity) });
        },
      },
      { lock: true },
      (id) => {
        approved = review(id, 'bob', '--approve');
      },
    );
    expect(await result).toBe(4);
    await approved;
    // An approved dba request existed (beforeAll), yet a new one was made for the lock.
    expect(err.text).not.toContain('Using approved access request');
    const used = err.text.match(CREATED)?.[1];
    expect(before.map((r) => r.id)).not.toContain(used);
    expect(locks).toEqual([
      { id: used, ttl: expect.any(Number), message: expect.any(String), fileLeft: false },
    ]);
    expect(locks[0].ttl).toBeGreaterThan(0);
    expect(err.text).toContain(`Locked access request ${used}\n`);
  });

  test('a trapped signal goes to COMMAND; its death by SIGINT is exit 130 and the trap is released', async () => {
    let identity = '';
    const killed: string[] = [];
    let released = false;
    const { result } = await execWith(
      {
        spawnChild(_cmd, _args, env) {
          identity = env.ACCESS_IDENTITY;
          let end: (e: { code: null; signal: NodeJS.Signals }) => void = () => {};
          const exited = new Promise<{ code: null; signal: NodeJS.Signals }>((r) => {
            end = r;
          });
          return {
            kill(sig) {
              killed.push(sig);
              end({ code: null, signal: sig });
              return true;
            },
            exited,
          };
        },
        trapSignals(handler) {
          queueMicrotask(() => handler('SIGINT'));
          return () => {
            released = true;
          };
        },
      },
      {},
    );
    expect(await result).toBe(130);
    expect(killed).toEqual(['SIGINT']);
    expect(released).toBe(true);
    expect(existsSync(join(identity, '..'))).toBe(false);
  });

  test('COMMAND that cannot be started: exit 1 naming it, and the identity is removed', async () => {
    let identity = '';
    const { result } = await execWith(
      {
        spawnChild(_cmd, _args, env) {
          identity = env.ACCESS_IDENTITY;
          const gone = Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' });
          return { kill: () => false, exited: Promise.reject(gone) };
        },
      },
      {},
    );
    await expect(result).rejects.toMatchObject({
      kind: 'failure',
      message: expect.stringMatching(/^cannot run ".*": no such file$/),
    });
    expect(existsSync(join(identity, '..'))).toBe(false);
  });

  test('signal death is 128+n', () => {
    expect(exitCodeOf({ code: 0, signal: null })).toBe(0);
    expect(exitCodeOf({ code: 42, signal: null })).toBe(42);
    expect(exitCodeOf({ code: null, signal: 'SIGKILL' })).toBe(137);
    expect(exitCodeOf({ code: null, signal: 'SIGTERM' })).toBe(143);
  });
});

describe('exec never reuses a locked request', () => {
  test('alice may not list locks: the refused certificate makes exec request access again', async () => {
    const made = await runCli(
      ['request', 'create', '--roles', 'dba', '--reason', 'x', '--nowait', '-f', 'json'],
      {
        env: alice.env,
      },
    );
    expect(made.code, made.stderr).toBe(0);
    const locked = (JSON.parse(made.stdout) as AccessRequest).id;
    await review(locked, 'bob', '--approve');
    const lock = await runCli(['request', 'lock', locked, '--message', 'incident 12'], {
      env: server.env('admin'),
    });
    expect(lock.code, lock.stderr).toBe(0);

    const io = fakeIO({ env: alice.env });
    let approved: Promise<void> | undefined;
    const write = io.err.write.bind(io.err);
    io.err.write = (chunk: string) => {
      const id = chunk.match(CREATED)?.[1];
      if (id) approved = review(id, 'bob', '--approve');
      return write(chunk);
    };
    const active: string[][] = [];
    const ctx = new CliContext({
      ...io,
      spawnChild(_cmd, _args, env) {
        active.push(parseIdentityFileAt(env.ACCESS_IDENTITY));
        return { kill: () => false, exited: Promise.resolve({ code: 0, signal: null }) };
      },
    });
    const opts = parse([[process.execPath, '-v']], { roles: ['dba'], reason: 'after the lock' });
    const code = await run(ctx, opts).finally(() => ctx.close());
    await approved;
    expect(code, io.err.text).toBe(0);
    const fresh = io.err.text.match(CREATED)?.[1];
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(locked);
    expect(io.err.text).toContain(`Access request ${locked} is locked; requesting access again`);
    // COMMAND ran once, with the new request only.
    expect(active).toEqual([[fresh]]);
  });
});

/** The active requests of the identity file at `path`. */
function parseIdentityFileAt(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return parseIdentity(parseIdentityFile(text, path).certPem).activeRequests;
}
