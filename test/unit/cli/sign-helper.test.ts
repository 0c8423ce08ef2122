import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { define, parse } from '../../../src/cli/commands/sign-helper.js';
import { checkIssuedTtl, lifetime, verifyLines } from '../../../src/cli/commands/sign-helper-checks.js';
import { pluginConfig, sshCaLines, targetsFor } from '../../../src/cli/commands/sign-helper-output.js';
import { pluginRbacResources, pluginRbacYaml } from '../../../src/cli/commands/sign-helper-rbac.js';
import { keyAlgorithmForSuite } from '../../../src/client/probes.js';
import { AccessError, UsageError } from '../../../src/model/errors.js';
import { demoSeed } from '../../../src/server/demo-seed.js';
import { parseSeed } from '../../../src/server/seed.js';
import { parseArgv as parseArgvOf } from './parse-argv.js';

function parseArgv(argv: string[], env: Record<string, string> = {}) {
  return parseArgvOf({ define, parse }, argv, env);
}

const SIGN = ['sign-helper', '--user', 'access-plugin', '--out', 'auth'];

describe('sign-helper --format: tctl file formats and output formats on one flag', () => {
  test('defaults: tls files, text output, 12h', () => {
    const { opts, globals } = parseArgv(SIGN);
    expect(opts).toMatchObject({
      user: 'access-plugin',
      out: 'auth',
      outFormat: 'tls',
      ttlMs: 12 * 3_600_000,
    });
    expect(opts.ttlText).toBe('12h');
    expect(globals.format).toBe('text');
  });

  test('--format=file chooses the identity file and leaves the output format alone', () => {
    const { opts, globals } = parseArgv([...SIGN, '--format=file']);
    expect(opts.outFormat).toBe('file');
    expect(globals.format).toBe('text');
  });

  test('both meanings together, in either order and spelling', () => {
    for (const flags of [
      ['--format', 'file', '-f', 'json'],
      ['-f', 'json', '--format', 'file'],
      ['--format=json', '--out-format', 'file'],
    ]) {
      const { opts, globals } = parseArgv([...SIGN, ...flags]);
      expect(opts.outFormat).toBe('file');
      expect(globals.format).toBe('json');
    }
  });

  test('a file format on the command keeps the root -f and ACCESS_FORMAT in force', () => {
    const root = parseArgv(['-f', 'yaml', ...SIGN, '--format', 'tls']);
    expect(root.globals.format).toBe('yaml');
    expect(root.opts.outFormat).toBe('tls');
    const env = parseArgv([...SIGN, '--format', 'file'], { ACCESS_FORMAT: 'json' });
    expect(env.globals.format).toBe('json');
    expect(env.opts.outFormat).toBe('file');
  });

  test('conflicting kinds and unknown values are usage errors', () => {
    expect(() => parseArgv([...SIGN, '--format', 'tls', '--out-format', 'file'])).toThrow(
      /conflicting output kinds/,
    );
    expect(() => parseArgv([...SIGN, '--format', 'tls', '--format', 'file'])).toThrow(UsageError);
    expect(() => parseArgv([...SIGN, '--format', 'pem'])).toThrow(
      /unsupported --format "pem": use tls or file/,
    );
  });
});

describe('sign-helper flag validation (before any server call)', () => {
  test('--user and --out are required unless only printing RBAC', () => {
    expect(() => parseArgv(['sign-helper', '--out', 'auth'])).toThrow(/--user is required/);
    expect(() => parseArgv(['sign-helper', '--user', 'x'])).toThrow(/--out is required/);
    expect(parseArgv(['sign-helper', '--print-rbac']).opts).toMatchObject({
      printRbac: true,
      out: undefined,
    });
    expect(parseArgv(['sign-helper', '--print-rbac', '--user', 'slack']).opts.user).toBe('slack');
    expect(() => parseArgv(['sign-helper', '--print-rbac', '--out', 'auth'])).toThrow(/--user is required/);
    expect(() => parseArgv(['sign-helper', '--print-rbac', '--verify'])).toThrow(/--verify needs/);
  });

  test('--ttl is a positive Go duration', () => {
    expect(parseArgv([...SIGN, '--ttl', '1h30m']).opts.ttlMs).toBe(90 * 60_000);
    expect(() => parseArgv([...SIGN, '--ttl', '0'])).toThrow(/must be greater than zero/);
    expect(() => parseArgv([...SIGN, '--ttl', 'soon'])).toThrow(/invalid duration "soon" for --ttl/);
  });

  test('user names and prefixes that cannot be written are refused', () => {
    expect(() => parseArgv(['sign-helper', '--user', 'a b', '--out', 'x'])).toThrow(/invalid --user/);
    expect(() => parseArgv(['sign-helper', '--user', 'a', '--out', 'dir/'])).toThrow(/invalid --out "dir\/"/);
  });
});

describe('key algorithm from the signature algorithm suite', () => {
  test('ECDSA P-256 for balanced-v1, fips-v1 and hsm-v1; RSA 2048 otherwise', () => {
    expect([0, 1, 2, 3, 4, 5].map(keyAlgorithmForSuite)).toEqual([
      'rsa-2048',
      'rsa-2048',
      'ecdsa-p256',
      'ecdsa-p256',
      'ecdsa-p256',
      'rsa-2048',
    ]);
  });
});

describe('issued TTL check', () => {
  const now = new Date('2026-11-21T10:00:00Z');
  const hours = (h: number) => new Date(now.getTime() + h * 3_600_000);

  test('accepts a certificate at most a minute shorter than asked', () => {
    const requested = hours(12);
    const issued = new Date(requested.getTime() - 59_000);
    expect(() =>
      checkIssuedTtl({ user: 'access-plugin', ttlText: '12h', requested, issued, now }),
    ).not.toThrow();
  });

  test('refuses a capped certificate naming both durations, as a usage error', () => {
    let err: unknown;
    try {
      checkIssuedTtl({
        user: 'access-plugin',
        ttlText: '1000h',
        requested: hours(1000),
        issued: hours(30),
        now,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AccessError);
    expect((err as AccessError).kind).toBe('usage');
    expect((err as AccessError).message).toBe(
      'the requested TTL of 1000h exceeds the maximum allowed for "access-plugin" (issued certificate is valid for 30h0m0s); nothing was written',
    );
    expect((err as AccessError).hint).toContain('max_session_ttl');
  });

  test('lifetimes round to the minute past two minutes (X.509 has whole seconds)', () => {
    expect(lifetime(12 * 3_600_000 - 700)).toBe('12h0m0s');
    expect(lifetime(90_400)).toBe('1m30s');
    expect(lifetime(-5)).toBe('0s');
  });
});

describe('files and plugin configuration', () => {
  test('tls writes three files next to the prefix, file writes exactly the path given', () => {
    expect(targetsFor('out/auth', 'tls')).toEqual({
      kind: 'tls',
      crt: resolve('out/auth.crt'),
      key: resolve('out/auth.key'),
      cas: resolve('out/auth.cas'),
    });
    expect(targetsFor('identity.pem', 'file')).toEqual({ kind: 'file', identity: resolve('identity.pem') });
  });

  test('the [teleport] block for the trio and for an identity file', () => {
    expect(
      pluginConfig('auth.example.com:3025', {
        kind: 'tls',
        crt: '/p/a.crt',
        key: '/p/a.key',
        cas: '/p/a.cas',
      }),
    ).toBe(
      '[teleport]\nauth_server = "auth.example.com:3025"\nclient_key = "/p/a.key"\nclient_crt = "/p/a.crt"\nroot_cas = "/p/a.cas"\n',
    );
    expect(pluginConfig('127.0.0.1:3025', { kind: 'file', identity: '/p/we "ird"' })).toBe(
      '[teleport]\nauth_server = "127.0.0.1:3025"\nidentity = "/p/we \\"ird\\""\n',
    );
  });

  test('SSH CA keys become @cert-authority lines for the cluster', () => {
    expect(
      sshCaLines(['ecdsa-sha2-nistp256 AAAA\n', '', '@cert-authority x ssh-ed25519 BBBB type=host'], 'local'),
    ).toEqual([
      '@cert-authority local,*.local ecdsa-sha2-nistp256 AAAA type=host',
      '@cert-authority x ssh-ed25519 BBBB type=host',
    ]);
  });
});

describe('--verify report', () => {
  test('names the identity, both permission probes and the expiry', () => {
    const now = new Date('2026-11-21T10:00:00Z');
    const base = {
      address: '127.0.0.1:3025',
      cluster: 'local',
      serverVersion: '18.0.0',
      user: 'access-plugin',
      roles: ['access-plugin'],
      visible: 3,
      more: false,
      expires: new Date('2026-11-21T22:00:00Z'),
    };
    const yes = verifyLines({ ...base, update: true }, now);
    expect(yes[0]).toBe(
      'verify: connected to 127.0.0.1:3025 (cluster "local", Teleport 18.0.0) as "access-plugin" with roles access-plugin',
    );
    expect(yes[1]).toContain('ListAccessRequests succeeded, 3 request(s) visible');
    expect(yes[2]).toBe(
      'verify: access_request update: yes (SetAccessRequestState passed the permission check)',
    );
    expect(yes[3]).toBe('verify: certificate expires 2026-11-21T22:00:00Z (in 12h0m0s)');
    expect(verifyLines({ ...base, update: false }, now)[2]).toMatch(/update: no \(PermissionDenied\)/);
    expect(verifyLines({ ...base, update: 'mfa' }, now)[2]).toMatch(
      /update: refused: the cluster wants MFA for admin actions from this identity .*`tctl auth sign` on the Auth host/,
    );
    expect(verifyLines({ ...base, update: 'bad state' }, now)[2]).toBe(
      'verify: access_request update: unknown (bad state)',
    );
  });
});

describe('--print-rbac', () => {
  test('the YAML loads as a seed: role access-plugin with list/read/update, user with that role', () => {
    const seed = parseSeed(pluginRbacYaml(), 'print-rbac');
    expect(seed.roles).toHaveLength(1);
    expect(seed.roles[0].name).toBe('access-plugin');
    expect(seed.roles[0].allow.rules).toContainEqual({
      resources: ['access_request'],
      verbs: ['list', 'read', 'update'],
    });
    expect(seed.users).toEqual([{ name: 'access-plugin', roles: ['access-plugin'], traits: {} }]);
  });

  test('documents the notify-only variant and the TTL cap in comments', () => {
    const text = pluginRbacYaml();
    expect(text).toMatch(/^# .*notify-only/m);
    expect(text).toMatch(/^#\s+verbs: \[list, read\]$/m);
    expect(text).toMatch(/^# .*max_session_ttl/m);
  });

  test('a custom user name, quoted when YAML needs it', () => {
    expect(parseSeed(pluginRbacYaml('slack'), 'x').users[0].name).toBe('slack');
    expect(parseSeed(pluginRbacYaml('bot:#1'), 'x').users[0].name).toBe('bot:#1');
  });

  test("grants what the demo seed's access-plugin role grants, so the two cannot drift", () => {
    const printed = parseSeed(pluginRbacYaml(), 'print-rbac').roles[0];
    const demo = demoSeed().roles.find((r) => r.name === 'access-plugin');
    expect(demo?.allow).toEqual(printed.allow);
    expect(demo?.deny).toEqual(printed.deny);
  });

  test('the JSON form carries the same resources as the YAML', () => {
    const docs = Array.from(parseAllDocuments(pluginRbacYaml('slack')), (d) => d.toJS());
    expect(docs).toEqual(pluginRbacResources('slack'));
  });
});
