import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseIdentity } from '../../src/identity/index.js';
import { SIGN_HELPER_RESULT_SCHEMA, type SignHelperResult } from '../../src/model/schema.js';
import { parseSeed } from '../../src/server/seed.js';
import { access, type CliExit, runAccess, SEED, startTestServer, type TestServer } from '../helpers/e2e.js';

/**
 * The seed is the shared e2e seed plus what `access sign-helper --print-rbac` prints, so
 * the printed RBAC is proven to load with `access server start --seed` and to grant what a
 * plugin needs. access-plugin's roles set no max_session_ttl: certificates cap at 30h.
 */
let dir: string;
let server: TestServer;
let env: Record<string, string>;
let rbacYaml: string;
/** The server's log lines; a certificate issued shows up as `issued certificates for …`. */
const serverLog: string[] = [];
const issued = () => serverLog.filter((l) => l.startsWith('issued certificates')).length;

const id = (user: string) => server.identity(user);
const out = (name: string) => join(dir, 'out', name);
/** Runs sign-helper in-process; `run` = runAccess runs the spawned bundle instead. */
const sign = (
  args: string[],
  as = 'admin',
  run: (argv: string[], env: Record<string, string>) => Promise<CliExit> = access,
) => run(['sign-helper', ...args, '-i', id(as)], env);
const trio = (prefix: string) => [
  '--cert',
  `${prefix}.crt`,
  '--key',
  `${prefix}.key`,
  '--ca',
  `${prefix}.cas`,
];

async function snapshot(
  paths: string[],
): Promise<{ path: string; bytes: string; mtimeMs: number; mode: number }[]> {
  return Promise.all(
    paths.map(async (path) => {
      const st = await stat(path);
      return {
        path,
        bytes: (await readFile(path)).toString('base64'),
        mtimeMs: st.mtimeMs,
        mode: st.mode & 0o777,
      };
    }),
  );
}

beforeAll(async () => {
  const printed = await access(['sign-helper', '--print-rbac'], {
    PATH: process.env.PATH ?? '',
    HOME: '/nonexistent-home',
  });
  expect(printed.code, printed.stderr).toBe(0);
  rbacYaml = printed.stdout;
  server = await startTestServer({ seed: `${SEED}\n---\n${rbacYaml}`, log: (line) => serverLog.push(line) });
  dir = server.dir;
  await mkdir(join(dir, 'out'));
  env = { PATH: process.env.PATH ?? '', HOME: dir, ACCESS_AUTH_SERVER: server.addr, NO_COLOR: '1' };
});

afterAll(async () => {
  await server?.close();
});

describe('access sign-helper --print-rbac', () => {
  test('alone it only prints YAML that loads as a seed, and exits 0', () => {
    const seed = parseSeed(rbacYaml, 'stdout');
    expect(seed.roles.map((r) => r.name)).toEqual(['access-plugin']);
    expect(seed.users).toEqual([{ name: 'access-plugin', roles: ['access-plugin'], traits: {} }]);
    expect(rbacYaml).toContain('verbs: [list, read, update]');
  });
});

describe('access sign-helper --format tls (the default)', () => {
  const prefix = () => out('auth');
  const files = () => [`${prefix()}.crt`, `${prefix()}.key`, `${prefix()}.cas`];

  test('admin signs for access-plugin: three files, key 0600, a paste-ready [teleport] block', async () => {
    const issuedBefore = issued();
    // The bundle, once: signing loads the X.509 library, a lazily loaded chunk.
    const r = await sign(['--user', 'access-plugin', '--out', prefix()], 'admin', runAccess);
    expect(r.code, r.stderr).toBe(0);
    expect(issued()).toBe(issuedBefore + 1);
    expect(r.stdout).toBe(
      `[teleport]\nauth_server = "${server.addr}"\nclient_key = "${prefix()}.key"\nclient_crt = "${prefix()}.crt"\nroot_cas = "${prefix()}.cas"\n`,
    );
    expect(r.stderr).toContain(
      `The credentials for "access-plugin" have been written to ${files().join(', ')}`,
    );
    expect(r.stderr).toMatch(/valid until \S+Z, 12h0m0s\)/);
    const snap = await snapshot(files());
    expect(snap.map((f) => f.mode)).toEqual([0o600, 0o600, 0o600]);
    const key = await readFile(`${prefix()}.key`, 'utf8');
    // The server reports the balanced-v1 suite, so the key is ECDSA P-256 in PKCS#8.
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const cert = parseIdentity(await readFile(`${prefix()}.crt`, 'utf8'));
    expect(cert.username).toBe('access-plugin');
    expect(cert.roles).toEqual(['access-plugin']);
    expect(cert.expires.getTime() - Date.now()).toBeGreaterThan(11.9 * 3_600_000);
    expect(await readFile(`${prefix()}.cas`, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  test('the trio works with --cert/--key/--ca: access-plugin lists requests other users made', async () => {
    const created = await access(
      [
        'request',
        'create',
        '--roles',
        'dba',
        '--reason',
        'sign-helper e2e',
        '--nowait',
        '-f',
        'json',
        '-i',
        id('alice'),
      ],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const requestId = (JSON.parse(created.stdout) as { id: string }).id;
    const r = await access(['request', 'ls', '-f', 'json', ...trio(prefix())], env);
    expect(r.code, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout) as { id: string; user: string }[];
    expect(listed).toContainEqual(expect.objectContaining({ id: requestId, user: 'alice' }));
  });

  test('a second run without --overwrite refuses before calling the server and leaves the files untouched', async () => {
    const before = await snapshot(files());
    const issuedBefore = issued();
    const r = await sign(['--user', 'access-plugin', '--out', prefix()]);
    expect(r.code).toBe(2);
    expect(issued()).toBe(issuedBefore);
    expect(r.stderr).toBe(
      `error: refusing to overwrite "${prefix()}.crt"\nhint: pass --overwrite to replace it\n`,
    );
    expect(r.stdout).toBe('');
    expect(await snapshot(files())).toEqual(before);
    expect((await readdir(join(dir, 'out'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  test('--overwrite replaces all three files, still 0600', async () => {
    const before = await snapshot(files());
    const r = await sign(['--user', 'access-plugin', '--out', prefix(), '--overwrite', '--ttl', '2h']);
    expect(r.code, r.stderr).toBe(0);
    const after = await snapshot(files());
    expect(after.map((f) => f.mode)).toEqual([0o600, 0o600, 0o600]);
    expect(after[1].bytes).not.toBe(before[1].bytes);
    expect(after[0].bytes).not.toBe(before[0].bytes);
    expect(r.stderr).toContain('2h0m0s)');
  });

  test('alice, without impersonation rights, gets exit 7 and no files', async () => {
    const r = await sign(['--user', 'access-plugin', '--out', out('alice-try')], 'alice');
    expect(r.code).toBe(7);
    // Teleport's answer (auth_with_roles.go: generateUserCerts) to a user who may impersonate nobody.
    expect(r.stderr).toMatch(/^error: access denied: impersonation is not allowed$/m);
    expect((await readdir(join(dir, 'out'))).filter((n) => n.startsWith('alice-try'))).toEqual([]);
  });

  test('a user that does not exist: exit 7, and the hint says both things Teleport hides', async () => {
    const r = await sign(['--user', 'nosuch', '--out', out('nosuch')]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^error: access denied issuing credentials for "nosuch"$/m);
    expect(r.stderr).toMatch(
      /^hint: Teleport does not say which: the user "nosuch" may not exist, or you may not impersonate them/m,
    );
    expect((await readdir(join(dir, 'out'))).filter((n) => n.startsWith('nosuch'))).toEqual([]);
  });

  test('a TTL above max_session_ttl is refused naming both durations, and nothing is written', async () => {
    const r = await sign(['--user', 'access-plugin', '--out', out('long'), '--ttl', '1000h']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'error: the requested TTL of 1000h exceeds the maximum allowed for "access-plugin" (issued certificate is valid for 30h0m0s)',
    );
    expect(r.stderr).toMatch(/^hint: lower --ttl to at most 30h0m0s, or raise max_session_ttl/m);
    expect(r.stdout).toBe('');
    expect((await readdir(join(dir, 'out'))).filter((n) => n.startsWith('long'))).toEqual([]);
  });

  test('bad input is refused before the server is asked', async () => {
    const issuedBefore = issued();
    const missingDir = await sign(['--user', 'access-plugin', '--out', join(dir, 'nope', 'auth')]);
    expect(missingDir.code).toBe(2);
    expect(missingDir.stderr).toContain(`cannot write to "${join(dir, 'nope')}": no such directory`);
    const noUser = await sign(['--out', out('x')]);
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toMatch(/^error: --user is required/);
    expect(issued()).toBe(issuedBefore);
  });
});

describe('access sign-helper --format file', () => {
  test('one identity file in Teleport layout at exactly the path given, usable with -i', async () => {
    const path = out('identity');
    const r = await sign(['--user', 'access-plugin', '--out', path, '--format=file']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`[teleport]\nauth_server = "${server.addr}"\nidentity = "${path}"\n`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n');
    expect(lines[0]).toBe('-----BEGIN PRIVATE KEY-----');
    const sshAt = lines.findIndex((l) => l.startsWith('ecdsa-sha2-nistp256-cert-v01@openssh.com '));
    const tlsAt = lines.indexOf('-----BEGIN CERTIFICATE-----');
    const caLineAt = lines.findIndex((l) =>
      l.startsWith(`@cert-authority ${server.cluster},*.${server.cluster} `),
    );
    const tlsCaAt = lines.indexOf('-----BEGIN CERTIFICATE-----', tlsAt + 1);
    expect(sshAt).toBeGreaterThan(0);
    expect(tlsAt).toBeGreaterThan(sshAt);
    expect(caLineAt).toBeGreaterThan(tlsAt);
    expect(tlsCaAt).toBeGreaterThan(caLineAt);

    const ls = await access(['request', 'ls', '-f', 'json', '-i', path], env);
    expect(ls.code, ls.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(ls.stdout))).toBe(true);
  });

  test('--format file -f json prints only the SignHelperResult document', async () => {
    const path = out('identity-json');
    const r = await sign(['--user', 'access-plugin', '--out', path, '--format', 'file', '-f', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as SignHelperResult;
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(SIGN_HELPER_RESULT_SCHEMA);
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true);
    expect(result.files).toEqual([path]);
    expect(result.user).toBe('access-plugin');
    expect(Date.parse(result.expires) - Date.now()).toBeGreaterThan(11.9 * 3_600_000);
  });

  test('the root -f json and a tctl-style --format=tls together', async () => {
    const prefix = out('root-json');
    const r = await access(
      [
        '-f',
        'json',
        'sign-helper',
        '--user',
        'access-plugin',
        '--out',
        prefix,
        '--format=tls',
        '-i',
        id('admin'),
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as SignHelperResult).files).toEqual([
      `${prefix}.crt`,
      `${prefix}.key`,
      `${prefix}.cas`,
    ]);
  });
});

describe('access sign-helper --verify', () => {
  test('access-plugin: connects with the new files and may list, read and update', async () => {
    const r = await sign(['--user', 'access-plugin', '--out', out('verified'), '--verify']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`verify: connected to ${server.addr} (cluster "${server.cluster}", Teleport `);
    expect(r.stderr).toContain('as "access-plugin" with roles access-plugin');
    expect(r.stderr).toMatch(
      /verify: access_request list\/read: ListAccessRequests succeeded, [1-9]\d* request\(s\) visible/,
    );
    expect(r.stderr).toContain(
      'verify: access_request update: yes (SetAccessRequestState passed the permission check)',
    );
    expect(r.stderr).toMatch(/verify: certificate expires \S+Z \(in 12h0m0s\)/);
    // The report is prose on stderr; stdout stays the pasteable configuration.
    expect(r.stdout.startsWith('[teleport]\n')).toBe(true);
    expect(r.stdout).not.toContain('verify:');
  });

  test('a user without the update rule is reported as unable to approve or deny', async () => {
    const r = await sign([
      '--user',
      'alice',
      '--out',
      out('alice-verified'),
      '--ttl',
      '1h',
      '--verify',
      '-f',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as SignHelperResult).user).toBe('alice');
    expect(r.stderr).toContain('verify: access_request update: no (PermissionDenied)');
  });
});
