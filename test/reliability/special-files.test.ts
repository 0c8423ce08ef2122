/**
 * Issue 22 finding 4: every path a user names is opened with a check that it is a regular
 * file, without blocking: a FIFO is refused at once (it used to hang, deaf to SIGTERM and
 * SIGINT), and every I/O error names the path.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
