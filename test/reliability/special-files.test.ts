/**
 * Issue 22 finding 4: every path a user names is opened with a check that it is a regular
 * file, without blocking: a FIFO is refused at once (it used to hang, deaf to SIGTERM and
 * SIGINT), and every I/O error names the path.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

let tmp: string;
let fifo: string;
let dir: string;
let home: string;
let rules: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'access-special-'));
  fifo = join(tmp, 'fifo');
  execFileSync('mkfifo', [fifo]);
  dir = join(tmp, 'a-directory');
  await mkdir(dir);
  // A tsh home whose current-profile is a FIFO, and one whose profile file is.
  rules = join(tmp, 'rules.yaml');
  await writeFile(
    rules,
    'kind: access_monitoring_rule\nversion: v1\nmetadata: { name: r }\nspec: { subjects: [access_request], condition: "true", notification: { name: slack, recipients: [x] } }\n',
  );
  home = join(tmp, 'tsh');
  await mkdir(home);
  execFileSync('mkfifo', [join(home, 'current-profile')]);
  await mkdir(join(tmp, 'tsh2'));
  await writeFile(join(tmp, 'tsh2', 'current-profile'), 'proxy.example.com\n');
  execFileSync('mkfifo', [join(tmp, 'tsh2', 'proxy.example.com.yaml')]);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const FIFO = /is a FIFO, not a regular file$/;
const DIR = /is a directory/;

describe('special files are refused at once, naming the path', () => {
  it.each<[string, () => string[], number, () => RegExp, Record<string, string>?]>([
    ['-i FIFO', () => ['request', 'ls', '-i', fifo], 7, () => FIFO],
    ['--config FIFO', () => ['webhook', 'serve', '--config', fifo], 2, () => FIFO],
    ['--config directory', () => ['webhook', 'serve', '--config', dir], 2, () => DIR],
    [
      '--seed FIFO',
      () => ['server', 'start', '--data-dir', join(tmp, 'data'), '--listen', '127.0.0.1:0', '--seed', fifo],
      2,
      () => FIFO,
    ],
    ['rule create -f FIFO', () => ['rule', 'create', '-f', fifo], 2, () => FIFO],
    ['rule create -f directory', () => ['rule', 'create', '-f', dir], 2, () => DIR],
    [
      'rule test --request-file FIFO',
      () => ['rule', 'test', '-f', rules, '--request-file', fifo],
      2,
      () => FIFO,
    ],
    ['tsh current-profile FIFO', () => ['request', 'ls'], 7, () => FIFO, { TELEPORT_HOME: 'tsh' }],
    ['tsh profile file FIFO', () => ['request', 'ls'], 7, () => FIFO, { TELEPORT_HOME: 'tsh2' }],
  ])('%s', async (_name, argv, code, line, env) => {
    const args = argv();
    const teleportHome = env?.TELEPORT_HOME === undefined ? undefined : join(tmp, env.TELEPORT_HOME);
    const r = await runCli(args, {
      env: { HOME: tmp, ...(teleportHome ? { TELEPORT_HOME: teleportHome } : {}) },
    });
    const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('hint: '));
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(line());
    // The path named: the flag's value, or the tsh file.
    expect(lines[0]).toContain(teleportHome ?? args.at(-1)!);
    expect(r.code).toBe(code);
  });
});

describe('webhook serve: the files its configuration names', () => {
  /** A configuration with no signing key (serve would generate one) naming `files`. */
  async function config(name: string, files: { ca?: string; key?: string; cert?: string }): Promise<string> {
    const d = join(tmp, name);
    await mkdir(d);
    await writeFile(join(d, 'plugin.pem'), 'not read before the refusal\n', { mode: 0o600 });
    const key = files.key ?? join(d, 'server.key');
    if (!files.key) await writeFile(key, 'key\n', { mode: 0o600 });
    const toml = [
      '[teleport]',
      'auth_server = "127.0.0.1:1"',
      `identity = "${join(d, 'plugin.pem')}"`,
      '[webhook]',
      'webhook_url = "https://receiver.example.com/hook"',
      `state_file = "${join(d, 'state.json')}"`,
      ...(files.ca ? [`ca_file = "${files.ca}"`] : []),
      '[http]',
      `https_key_file = "${key}"`,
      `https_cert_file = "${files.cert ?? join(d, 'server.crt')}"`,
    ].join('\n');
    await writeFile(join(d, 'webhook.toml'), `${toml}\n`);
    return d;
  }

  it.each<[string, (d: string) => { ca?: string; cert?: string }, RegExp]>([
    [
      'ca_file FIFO',
      () => ({ ca: fifo }),
      /^error: cannot read ca_file ".*\/fifo": is a FIFO, not a regular file$/,
    ],
    [
      'ca_file directory',
      () => ({ ca: dir }),
      /^error: cannot read ca_file ".*\/a-directory": is a directory/,
    ],
    [
      'https_cert_file FIFO',
      () => ({ cert: fifo }),
      /^error: cannot read https_cert_file ".*\/fifo": is a FIFO, not a regular file$/,
    ],
  ])('%s is refused at once, before anything is written', async (name, files, line) => {
    const d = await config(name.replace(/\W+/g, '-'), files(''));
    const r = await runCli(['webhook', 'serve', '--config', join(d, 'webhook.toml')], { env: { HOME: tmp } });
    expect(r.stderr.split('\n')[0]).toMatch(line);
    expect(r.code).toBe(2);
    // No signing key was generated, no state written.
    expect((await readdir(d)).sort()).toEqual(['plugin.pem', 'server.key', 'webhook.toml']);
  });
});
