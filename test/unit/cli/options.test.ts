import { describe, expect, test } from 'vitest';
import { CliContext } from '../../../src/cli/context.js';
import { DEFAULT_RPC_TIMEOUT_MS, resolveGlobalOptions } from '../../../src/cli/options.js';
import { runProgram } from '../../../src/cli/program.js';
import { themeFor } from '../../../src/render/theme.js';
import { fakeIO } from '../../helpers/run-cli.js';

/** Parses argv with a fresh tree and returns the merged global options the command would see. */
async function globalsFor(argv: string[], env: Record<string, string> = {}) {
  const ctx = new CliContext(fakeIO({ env: { HOME: '/home/u', ...env } }));
  // The command itself fails (no server); only the options merged before it ran matter here.
  await runProgram(ctx, argv).catch(() => {});
  return ctx.globals;
}

describe('global options and environment', () => {
  test('defaults', () => {
    expect(resolveGlobalOptions({}, '/home/u')).toEqual({
      authServer: undefined,
      proxy: undefined,
      identity: undefined,
      cert: undefined,
      key: undefined,
      ca: undefined,
      teleportHome: '/home/u/.tsh',
      format: 'text',
      color: true,
      debug: false,
      rpcTimeoutMs: DEFAULT_RPC_TIMEOUT_MS,
      tlsServerName: undefined,
    });
  });

  test('ACCESS_* wins over TELEPORT_* and flags win over both', async () => {
    const env = {
      ACCESS_AUTH_SERVER: 'a:1',
      TELEPORT_AUTH_SERVER: 't:1',
      TELEPORT_PROXY: 'proxy:443',
      ACCESS_IDENTITY: '/env/access.pem',
      TELEPORT_IDENTITY_FILE: '/env/teleport.pem',
      ACCESS_FORMAT: 'yaml',
      ACCESS_RPC_TIMEOUT: '5s',
      TELEPORT_HOME: '/th',
    };
    const fromEnv = await globalsFor(['request', 'ls'], env);
    expect(fromEnv).toMatchObject({
      authServer: 'a:1',
      proxy: 'proxy:443',
      identity: '/env/access.pem',
      format: 'yaml',
      rpcTimeoutMs: 5000,
      teleportHome: '/th',
    });
    const fromFlags = await globalsFor(
      ['request', 'ls', '--auth-server', 'f:2', '-i', '/flag.pem', '-f', 'json', '--rpc-timeout', '1m'],
      env,
    );
    expect(fromFlags).toMatchObject({
      authServer: 'f:2',
      identity: '/flag.pem',
      format: 'json',
      rpcTimeoutMs: 60_000,
    });
  });

  test('--timeout is the RPC deadline except where a command has its own (create and wait)', async () => {
    expect(await globalsFor(['request', 'ls', '--timeout', '5s'])).toMatchObject({ rpcTimeoutMs: 5000 });
    expect(await globalsFor(['--timeout', '7s', 'request', 'caps'])).toMatchObject({ rpcTimeoutMs: 7000 });
    expect(await globalsFor(['request', 'wait', 'x', '--timeout', '1h'])).toMatchObject({
      rpcTimeoutMs: DEFAULT_RPC_TIMEOUT_MS,
    });
    expect(await globalsFor(['request', 'ls', '--timeout', '5s', '--rpc-timeout', '9s'])).toMatchObject({
      rpcTimeoutMs: 9000,
    });
  });

  test('TELEPORT_* is used when no ACCESS_* is set', async () => {
    const g = await globalsFor(['request', 'ls'], {
      TELEPORT_AUTH_SERVER: 't:1',
      TELEPORT_IDENTITY_FILE: '/t.pem',
    });
    expect(g).toMatchObject({ authServer: 't:1', identity: '/t.pem' });
  });

  test('global flags work before and after the command', async () => {
    expect(await globalsFor(['-f', 'json', 'request', 'ls'])).toMatchObject({ format: 'json' });
    expect(await globalsFor(['request', '-f', 'yaml', 'ls'])).toMatchObject({ format: 'yaml' });
    expect(await globalsFor(['request', 'ls', '--format=json'])).toMatchObject({ format: 'json' });
    expect(await globalsFor(['--debug', 'request', 'ls', '--no-color'])).toMatchObject({
      debug: true,
      color: false,
    });
  });

  test('ACCESS_DEBUG=1 turns on debug', async () => {
    expect(await globalsFor(['request', 'ls'], { ACCESS_DEBUG: '1' })).toMatchObject({ debug: true });
  });

  test('--cert/--key/--ca come from flags or ACCESS_CERT/KEY/CA', async () => {
    const g = await globalsFor(['request', 'ls', '--cert', '/c'], { ACCESS_KEY: '/k', ACCESS_CA: '/ca' });
    expect(g).toMatchObject({ cert: '/c', key: '/k', ca: '/ca' });
  });

  test('a flag of one kind hides the environment of the other (--proxy vs ACCESS_AUTH_SERVER, trio vs identity)', async () => {
    const env = {
      ACCESS_AUTH_SERVER: 'env-auth:3025',
      TELEPORT_IDENTITY_FILE: '/env/id.pem',
      ACCESS_CERT: '/env/c',
      ACCESS_KEY: '/env/k',
      ACCESS_CA: '/env/ca',
    };
    const proxied = await globalsFor(['request', 'ls', '--proxy', 'p:443'], env);
    expect(proxied).toMatchObject({ authServer: undefined, proxy: 'p:443' });
    const trio = await globalsFor(['request', 'ls', '--cert', '/c', '--key', '/k'], env);
    expect(trio).toMatchObject({ identity: undefined, cert: '/c', key: '/k', ca: '/env/ca' });
    const file = await globalsFor(['request', 'ls', '-i', '/flag.pem'], env);
    expect(file).toMatchObject({ identity: '/flag.pem', cert: undefined, key: undefined, ca: undefined });
  });

  test('invalid values name where they came from', () => {
    expect(() => resolveGlobalOptions({ ACCESS_FORMAT: 'xml' }, '/h')).toThrow(
      'unsupported format "xml" for ACCESS_FORMAT: use text, json or yaml',
    );
    expect(() => resolveGlobalOptions({ ACCESS_RPC_TIMEOUT: 'soon' }, '/h')).toThrow(/ACCESS_RPC_TIMEOUT/);
    expect(() => resolveGlobalOptions({ ACCESS_RPC_TIMEOUT: '0' }, '/h')).toThrow(/greater than zero/);
  });
});

describe('colour', () => {
  test('--no-color turns colour off for the whole command', async () => {
    const ctx = new CliContext(fakeIO({ env: { FORCE_COLOR: '1' }, isTTY: true }));
    expect(ctx.io.color).toBe(true);
    await runProgram(ctx, ['request', 'ls', '--no-color']).catch(() => {});
    expect(ctx.io.color).toBe(false);
    expect(themeFor(ctx.io).state('DENIED')).toBe('DENIED');
  });

  test('NO_COLOR wins over a TTY and FORCE_COLOR', () => {
    expect(fakeIO({ env: { NO_COLOR: '1', FORCE_COLOR: '1' }, isTTY: true }).color).toBe(false);
    expect(fakeIO({ env: {}, isTTY: true }).color).toBe(true);
    expect(fakeIO({ env: {}, isTTY: false }).color).toBe(false);
    expect(fakeIO({ env: { FORCE_COLOR: '1' }, isTTY: false }).color).toBe(true);
    expect(fakeIO({ env: { FORCE_COLOR: '0' }, isTTY: true }).color).toBe(false);
  });
});
