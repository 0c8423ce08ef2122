import { CommanderError } from 'commander';
import { describe, expect, test } from 'vitest';
import { reportFor } from '../../../src/cli/main.js';
import { packageVersion } from '../../../src/cli/program.js';
import { RpcError } from '../../../src/client/errors.js';
import { AccessError, UsageError } from '../../../src/model/errors.js';
import { SeedError } from '../../../src/server/seed.js';
import { fakeIO, runCli } from '../../helpers/run-cli.js';

describe('exit-code mapping', () => {
  test.each([
    ['failure', 1],
    ['usage', 2],
    ['denied', 3],
    ['timeout', 4],
    ['expired', 5],
    ['not-found', 6],
    ['permission', 7],
    ['unavailable', 8],
    ['interrupted', 130],
  ] as const)('AccessError kind %s exits %i', (kind, code) => {
    expect(reportFor(new AccessError(kind, 'boom', 'try this'))).toEqual({
      code,
      message: 'boom',
      hint: 'try this',
    });
  });

  test.each([
    ['INVALID_ARGUMENT', 2],
    ['NOT_FOUND', 6],
    ['PERMISSION_DENIED', 7],
    ['UNAUTHENTICATED', 7],
    ['UNAVAILABLE', 8],
    ['INTERNAL', 1],
    ['FAILED_PRECONDITION', 1],
  ] as const)('RpcError with gRPC status %s exits %i', (grpcCode, exit) => {
    expect(reportFor(new RpcError(grpcCode, 'from server')).code).toBe(exit);
  });

  test('a usage error from commander exits 2 with a one-line message and a hint', () => {
    const err = new CommanderError(
      1,
      'commander.unknownOption',
      "error: unknown option '--x'\n(Did you mean --y?)",
    );
    expect(reportFor(err)).toEqual({ code: 2, message: "unknown option '--x'", hint: 'did you mean --y?' });
  });

  test('help and version displays exit 0 without a message', () => {
    expect(reportFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toEqual({
      code: 0,
      message: '',
    });
    expect(reportFor(new CommanderError(0, 'commander.version', '0.1.0'))).toEqual({ code: 0, message: '' });
  });

  test('a seed file error exits 2', () => {
    expect(reportFor(new SeedError('seed "x" document 2: unknown field "spec.foo"')).code).toBe(2);
  });

  test('anything else exits 1 with its message on one line', () => {
    expect(reportFor(new Error('first\n  second'))).toEqual({ code: 1, message: 'first second' });
    expect(reportFor('plain')).toEqual({ code: 1, message: 'plain' });
  });

  test('an unknown failure after Ctrl-C counts as an interruption', () => {
    const ac = new AbortController();
    ac.abort();
    const io = { signal: ac.signal, abortReason: () => 'SIGINT' as const };
    expect(reportFor(new Error('stream closed'), io as never).code).toBe(130);
  });
});

describe('main', () => {
  test('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r).toEqual({ code: 0, stdout: `${packageVersion()}\n`, stderr: '' });
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('--help goes to stdout and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: access');
    expect(r.stdout).toContain('request');
    expect(r.stdout).toContain('--rpc-timeout');
    expect(r.stdout).toContain(
      'Help topics (access help <topic>):\n  environment\n  exit-codes\n  formats\n  resource-ids',
    );
    expect(r.stderr).toBe('');
  });

  test('a command help lists its flags and the global options once', async () => {
    const r = await runCli(['request', 'create', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--nowait');
    expect(r.stdout).toContain('Global Options:');
    expect(r.stdout.match(/--auth-server/g)).toHaveLength(1);
  });

  test('an unknown flag is a usage error: exit 2, one error line and a hint naming the command', async () => {
    const r = await runCli(['request', 'ls', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "error: unknown option '--bogus'\nhint: run `access request ls --help` for usage\n",
    );
  });

  test('a mistyped command suggests the right one', async () => {
    const r = await runCli(['request', 'lss']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: unknown command 'lss'\nhint: did you mean ls?\n");
  });

  test('a missing argument is a usage error', async () => {
    const r = await runCli(['request', 'show']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: missing required argument 'ids'\n/);
  });

  test('a command group without a command shows its help on stderr and exits 2', async () => {
    const r = await runCli(['request']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: access request');
  });

  test('no stack trace unless --debug', async () => {
    const plain = await runCli(['request', 'ls'], { env: { ACCESS_IDENTITY: '/nonexistent/alice.pem' } });
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await runCli(['request', 'ls', '--debug'], {
      env: { ACCESS_IDENTITY: '/nonexistent/alice.pem' },
    });
    expect(debug.code).toBe(plain.code);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  test('no address and no tsh profile: a usage error pointing at `access server start`', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeIdentity } = await import('./fixtures.js');
    const dir = await mkdtemp(join(tmpdir(), 'access-cli-'));
    try {
      const path = await writeIdentity(dir);
      const r = await runCli(['request', 'ls'], { env: { ACCESS_IDENTITY: path } });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        'error: no Auth Service address given\nhint: pass --auth-server HOST:PORT (or set ACCESS_AUTH_SERVER); for a local server run `access server start` and paste the export line it prints\n',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('UsageError thrown by a builder names the bad part', () => {
    expect(reportFor(new UsageError('invalid --limit "0"')).message).toBe('invalid --limit "0"');
  });
});

describe('a wait stopped by a signal', () => {
  const stopped = (signal: 'SIGINT' | 'SIGTERM') => {
    const ac = new AbortController();
    ac.abort();
    return fakeIO({ signal: ac.signal, abortSignal: signal });
  };
  const interrupted = new AccessError(
    'interrupted',
    'stopped waiting for request x; it is still pending',
    'resume',
  );

  test('exits 130 after Ctrl-C and 143 (128 + 15) after SIGTERM, keeping the hint', () => {
    expect(reportFor(interrupted, stopped('SIGINT'))).toMatchObject({ code: 130, hint: 'resume' });
    expect(reportFor(interrupted, stopped('SIGTERM'))).toMatchObject({ code: 143, hint: 'resume' });
  });
});
