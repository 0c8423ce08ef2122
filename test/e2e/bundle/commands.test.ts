/**
 * What users run: every leaf command of the manifest through the built bundle
 * (`node bin/access.cjs`, spawned with only the environment a user would set), against one
 * embedded server with the demo seed, as `access server start` gives a newcomer. Every option
 * that loads a file (-f, --seed, --request-file, --config, -i, --cert/--key/--ca) and every
 * output format (text, json, yaml; sign-helper's tls and file) runs at least once.
 *
 * The other suites run the sources in-process, so a command the bundle breaks (a chunk that
 * lacks a name its importer uses, as `rule create -f` did) passed them all. The last test fails
 * when a leaf of the manifest has no case here: a new command gets one.
 *
 * Cases run concurrently: each works on requests of its own (or of a user no other case
 * uses), and only the rule case creates rules (routing dba requests, which no other case
 * makes). Setup that is not the case itself runs in-process.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { leafNamedBy, leaves } from '../../../src/cli/manifest.js';
import type { AccessRequest } from '../../../src/model/request.js';
import {
  accessJson,
  type CliExit,
  copyIdentity,
  expectSchema,
  killSpawned,
  runAccess,
  SEED,
  spawnCli,
  startTestServer,
  type TestServer,
} from '../../helpers/e2e.js';
import { localTls, startReceiver } from '../../webhook/helpers.js';

let server: TestServer;
let env: (user: string) => Record<string, string>;

beforeAll(async () => {
  server = await startTestServer({ seed: null });
  env = (user) => server.env(user);
});

afterAll(async () => {
  killSpawned();
  await server?.close();
});

/** Leaves the cases declare (at collection) and leaves a spawned argv named (as it ran). */
const declared = new Set<string>();
const spawned = new Set<string>();

function leafOf(args: string[]): string | undefined {
  const leaf = leafNamedBy(args);
  if (!leaf) return undefined;
  return leaves()
    .find((l) => l.entry === leaf)
    ?.path.join(' ');
}

/** A case for the leaves it names; they count as covered once a spawned argv names them. */
function bundleCase(covers: string[], name: string, fn: () => Promise<void>) {
  for (const c of covers) declared.add(c);
  test.concurrent(`${covers.join(', ')}: ${name}`, fn);
}

function bin(args: string[], as: Record<string, string>) {
  const leaf = leafOf(args);
  if (leaf) spawned.add(leaf);
  return spawnCli(args, as);
}

/** Runs the bundle to its exit. */
function run(args: string[], as: Record<string, string>): Promise<CliExit> {
  const leaf = leafOf(args);
  if (leaf) spawned.add(leaf);
  return runAccess(args, as);
}

/** Runs the bundle, expects exit 0 and no error line, and returns stdout. */
async function ok(args: string[], as: Record<string, string>): Promise<string> {
  const r = await run(args, as);
  expect(r.code, `access ${args.join(' ')}: ${r.stderr}`).toBe(0);
  expect(r.stderr).not.toMatch(/^error:/m);
  return r.stdout;
}

/** stdout of `args` in `format`, parsed (json, yaml) or as text. */
async function inFormat(format: string, args: string[], as: Record<string, string>): Promise<unknown> {
  const out = await ok([...args, '--format', format], as);
  if (format === 'json') return JSON.parse(out);
  if (format === 'yaml') return parseYaml(out);
  return out;
}

const FORMATS = ['text', 'json', 'yaml'] as const;

/** A pending request of `user` made in-process (setup, not under test). */
async function pending(user: string, roles = 'auditor', reason = 'bundle e2e'): Promise<AccessRequest> {
  return accessJson<AccessRequest>(
    ['request', 'create', '--roles', roles, '--reason', reason, '--nowait'],
    env(user),
  );
}

describe('every command through the bundle', () => {
  for (const format of FORMATS) {
    bundleCase(['request ls', 'request show'], `--format ${format}`, async () => {
      const req = await pending('alice', 'auditor', `ls ${format}`);
      const ls = await inFormat(format, ['request', 'ls', '--mine'], env('alice'));
      const show = await inFormat(format, ['request', 'show', req.id], env('alice'));
      if (format === 'text') {
        expect(ls).toContain(req.id);
        expect(show).toContain(req.id);
      } else {
        expectSchema('requests', ls);
        expectSchema('request', show);
        expect((ls as AccessRequest[]).map((r) => r.id)).toContain(req.id);
        expect(show).toMatchObject({ id: req.id, state: 'PENDING', reason: `ls ${format}` });
      }
    });

    bundleCase(['request search', 'request caps'], `--format ${format}`, async () => {
      const found = await inFormat(format, ['request', 'search', '--kind', 'node'], env('alice'));
      const caps = await inFormat(format, ['request', 'caps'], env('alice'));
      if (format === 'text') {
        expect(found).toMatch(/\/node\//);
        expect(caps).toContain('auditor');
      } else {
        expectSchema('search-results', found);
        expect((found as unknown[]).length).toBeGreaterThan(0);
        expectSchema('capabilities', caps);
        expect(caps).toMatchObject({ requestable_roles: ['auditor', 'dba'] });
      }
    });

    bundleCase(['lock ls'], `--format ${format}`, async () => {
      const listed = await inFormat(format, ['lock', 'ls'], env('admin'));
      if (format === 'text') expect(typeof listed).toBe('string');
      else expectSchema('locks', listed);
    });

    bundleCase(['rule ls'], `--format ${format}`, async () => {
      const listed = await inFormat(format, ['rule', 'ls'], env('admin'));
      if (format !== 'text') expect(Array.isArray(listed)).toBe(true);
    });
  }

  bundleCase(['request search'], '--roles, text', async () => {
    expect(await ok(['request', 'search', '--roles'], env('alice'))).toMatch(/^auditor\b/m);
  });

  bundleCase(['request create'], '--nowait in each format, and --dry-run', async () => {
    for (const format of FORMATS) {
      const args = ['request', 'create', '--roles', 'auditor', '--reason', `create ${format}`, '--nowait'];
      const out = await inFormat(format, args, env('alice'));
      if (format === 'text') expect(out).toMatch(/[0-9a-f-]{36}/);
      else {
        expectSchema('request', out);
        expect(out).toMatchObject({ state: 'PENDING', roles: ['auditor'] });
      }
    }
    const dry = await inFormat(
      'json',
      ['request', 'create', '--roles', 'dba', '--reason', 'dry', '--dry-run'],
      env('alice'),
    );
    expectSchema('dry-run', dry);
    expect(dry).toMatchObject({ reason_mode: 'required' });
  });

  bundleCase(
    ['request wait', 'request review', 'request drop'],
    'waiting, a review resolves it, the certificate carries it, and drop removes it',
    async () => {
      const alice = await copyIdentity(server, 'alice');
      const req = await pending('alice', 'auditor', 'wait and drop');
      const wait = bin(['request', 'wait', req.id], alice.env);
      await wait.waitForStderr(/[Ww]aiting/);
      const reviewed = await inFormat(
        'json',
        ['request', 'review', req.id, '--approve', '--reason', 'fine'],
        env('bob'),
      );
      expectSchema('request', reviewed);
      const exit = await wait.exited();
      expect(exit.code, exit.stderr).toBe(0);
      const dropped = await inFormat('json', ['request', 'drop', req.id], alice.env);
      expectSchema('drop-result', dropped);
      expect(dropped).toMatchObject({ dropped: [req.id], active_requests: [] });
    },
  );

  bundleCase(['request approve', 'request deny', 'request rm'], 'as admin, json and text', async () => {
    const [a, b] = [await pending('alice'), await pending('alice')];
    const approved = await inFormat('json', ['request', 'approve', a.id, '--reason', 'yes'], env('admin'));
    expectSchema('action-results', approved);
    expect(approved).toEqual([{ id: a.id, ok: true, state: 'APPROVED', error: null }]);
    expect(await ok(['request', 'deny', b.id, '--reason', 'no'], env('admin'))).toContain(b.id);
    const removed = await inFormat('json', ['request', 'rm', a.id, b.id, '--force'], env('admin'));
    expectSchema('rm-result', removed);
    expect(removed).toMatchObject({ deleted: [a.id, b.id] });
  });

  bundleCase(['request lock', 'lock rm'], 'lock a request, see it, remove the lock', async () => {
    const req = await pending('alice');
    await accessJson(['request', 'approve', req.id], env('admin'));
    const lock = await inFormat('json', ['request', 'lock', req.id, '--message', 'revoked'], env('admin'));
    expectSchema('lock', lock);
    const { name } = lock as { name: string };
    const listed = (await inFormat('json', ['lock', 'ls'], env('admin'))) as { name: string }[];
    expect(listed.map((l) => l.name)).toContain(name);
    const removed = await inFormat('yaml', ['lock', 'rm', name], env('admin'));
    expectSchema('lock-rm-result', removed);
    expect(removed).toEqual({ deleted: [name] });
  });

  bundleCase(['request watch'], 'one change in each format until SIGINT, exit 0', async () => {
    const watches = FORMATS.map((format) =>
      bin(['request', 'watch', '--user', 'alice', '--format', format], env('admin')),
    );
    await Promise.all(watches.map((w) => w.waitForStderr(/Watching access requests/)));
    const req = await pending('alice', 'auditor', 'watched');
    const [text, json, yaml] = watches;
    await text.waitForStdout(new RegExp(`^PUT ${req.id} alice PENDING$`, 'm'));
    await json.waitForStdout(new RegExp(`"type":"put".*"id":"${req.id}"`));
    await yaml.waitForStdout(new RegExp(`^id: ${req.id}$`, 'm'));
    for (const w of watches) w.child.kill('SIGINT');
    const [, jsonExit, yamlExit] = await Promise.all(
      watches.map(async (w) => {
        const exit = await w.exited();
        expect(exit.code, exit.stderr).toBe(0);
        return exit;
      }),
    );
    for (const line of jsonExit.stdout.trimEnd().split('\n')) expectSchema('watch-event', JSON.parse(line));
    const docs = yamlExit.stdout.split(/^---\n/m).filter((d) => d.trim() !== '');
    for (const doc of docs) expectSchema('watch-event', parseYaml(doc));
  });

  bundleCase(['exec'], 'runs COMMAND once a reviewer approves, with its exit code', async () => {
    // dave's requests are this case's alone: exec would otherwise reuse another case's request.
    const exec = bin(
      [
        'exec',
        '--roles',
        'auditor',
        '--reason',
        'ticket 7',
        '--',
        process.execPath,
        '-e',
        'console.log("ran")',
      ],
      env('dave'),
    );
    const id = (await exec.waitForStderr(/Created access request (\S+) \(PENDING\)/))[1];
    await ok(['request', 'review', id, '--approve'], env('bob'));
    const exit = await exec.exited();
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toBe('ran\n');
  });

  bundleCase(
    ['rule create', 'rule show', 'rule update', 'rule test', 'rule rm'],
    'from YAML files (-f, --request-file), shown in each format, updated from its own YAML',
    async () => {
      const dir = join(server.dir, 'rules');
      await mkdir(dir);
      const file = join(dir, 'rules.yaml');
      await writeFile(
        file,
        `kind: access_monitoring_rule
version: v1
metadata: { name: bundle-dba }
spec:
  subjects: [access_request]
  condition: access_request.spec.roles.contains("dba")
  notification: { name: slack, recipients: ["#dba"] }
---
kind: access_monitoring_rule
version: v1
metadata: { name: bundle-dba-team }
spec:
  subjects: [access_request]
  condition: access_request.spec.roles.contains("dba") && user.traits["team"].contains("dev")
  notification: { name: slack, recipients: ["#dba-dev"] }
`,
      );
      const created = await run(['rule', 'create', '-f', file], env('admin'));
      expect(created.code, created.stderr).toBe(0);
      expect(created.stderr).toContain('access_monitoring_rule "bundle-dba" has been created');

      for (const format of FORMATS) {
        const shown = await inFormat(format, ['rule', 'show', 'bundle-dba'], env('admin'));
        if (format === 'text') expect(shown).toContain('#dba');
        else expect(shown).toMatchObject({ metadata: { name: 'bundle-dba' } });
      }

      // What `rule show --format yaml` prints loads back with `rule update -f`.
      const yaml = await ok(['rule', 'show', 'bundle-dba', '--format', 'yaml'], env('admin'));
      const edited = join(dir, 'edited.yaml');
      await writeFile(edited, yaml.replaceAll('#dba', '#dba-oncall'));
      const updated = await run(['rule', 'update', '-f', edited], env('admin'));
      expect(updated.code, updated.stderr).toBe(0);
      expect(await ok(['rule', 'show', 'bundle-dba', '--format', 'json'], env('admin'))).toContain(
        '#dba-oncall',
      );

      const requestFile = join(dir, 'request.json');
      await writeFile(
        requestFile,
        JSON.stringify({ user: 'alice', roles: ['dba'], user_traits: { team: ['dev'] } }),
      );
      const tested = await ok(['rule', 'test', '-f', file, '--request-file', requestFile], env('admin'));
      expect(tested).toMatch(/bundle-dba: matched/);
      expect(tested).toMatch(/bundle-dba-team: matched/);
      const stored = await pending('alice', 'dba', 'rule test');
      expect(await ok(['rule', 'test', 'bundle-dba', '--request', stored.id], env('admin'))).toMatch(
        /bundle-dba: matched/,
      );

      await ok(['rule', 'rm', 'bundle-dba', 'bundle-dba-team'], env('admin'));
      expect((await run(['rule', 'show', 'bundle-dba'], env('admin'))).code).not.toBe(0);
    },
  );

  bundleCase(
    ['webhook configure', 'webhook serve'],
    'the template, and a signed POST from --config',
    async () => {
      expect(await ok(['webhook', 'configure'], env('admin'))).toContain('[teleport]');
      const dir = join(server.dir, 'webhook');
      await mkdir(dir);
      const tls = await localTls();
      const secret = 'bundle-secret';
      const receiver = await startReceiver(tls, Buffer.from(secret));
      try {
        await writeFile(join(dir, 'ca.pem'), tls.caPem);
        await writeFile(join(dir, 'signing.key'), `${secret}\n`, { mode: 0o600 });
        const config = join(dir, 'webhook.toml');
        await writeFile(
          config,
          `[teleport]
auth_server = "${server.addr}"
identity = "${server.identity('admin')}"

[webhook]
webhook_url = "${receiver.url}"
notify_only = true
signing_secret_file = "${join(dir, 'signing.key')}"
ca_file = "${join(dir, 'ca.pem')}"
state_file = "${join(dir, 'state.json')}"
`,
        );
        const serve = bin(['webhook', 'serve', '--config', config], {
          PATH: process.env.PATH ?? '',
          HOME: dir,
        });
        const req = await pending('alice', 'auditor', 'webhook');
        const got = await receiver.waitFor((r) => r.body.id === req.id);
        expect(got.signed).toBe(true);
        serve.child.kill('SIGTERM');
        expect((await serve.exited()).code).toBe(0);
      } finally {
        await receiver.close();
      }
    },
  );

  bundleCase(
    ['sign-helper'],
    'tls files, an identity file, both used to connect (--cert/--key/--ca, -i)',
    async () => {
      const dir = join(server.dir, 'signed');
      await mkdir(dir);
      expect(await ok(['sign-helper', '--print-rbac'], env('admin'))).toContain('kind: role');
      const prefix = join(dir, 'plugin');
      const tls = await ok(['sign-helper', '--user', 'access-plugin', '--out', prefix], env('admin'));
      expect(tls).toContain(`client_crt = "${prefix}.crt"`);
      const identity = join(dir, 'plugin.pem');
      const signed = await inFormat(
        'json',
        ['sign-helper', '--user', 'access-plugin', '--out-format', 'file', '--out', identity],
        env('admin'),
      );
      expectSchema('sign-helper-result', signed);
      expect(signed).toMatchObject({ files: [identity], user: 'access-plugin' });

      const req = await pending('alice', 'auditor', 'seen by the plugin');
      const base = { PATH: process.env.PATH ?? '', HOME: dir, ACCESS_AUTH_SERVER: server.addr };
      const viaTrio = await inFormat(
        'json',
        ['request', 'ls', '--cert', `${prefix}.crt`, '--key', `${prefix}.key`, '--ca', `${prefix}.cas`],
        base,
      );
      expect((viaTrio as AccessRequest[]).map((r) => r.id)).toContain(req.id);
      const viaIdentity = await ok(['request', 'show', req.id, '-i', identity], base);
      expect(viaIdentity).toContain(req.id);
    },
  );

  bundleCase(
    ['server start'],
    '--seed, then a command with the export line it prints, then SIGTERM',
    async () => {
      const dir = join(server.dir, 'own-server');
      await mkdir(dir);
      await writeFile(join(dir, 'seed.yaml'), SEED);
      const home = { PATH: process.env.PATH ?? '', HOME: dir };
      const srv = bin(
        [
          'server',
          'start',
          '--data-dir',
          join(dir, 'data'),
          '--listen',
          '127.0.0.1:0',
          '--seed',
          join(dir, 'seed.yaml'),
          '--cluster-name',
          'bundle',
        ],
        home,
      );
      const exported = (await srv.waitForStdout(/^export (.+)$/m, 20_000))[1];
      const as: Record<string, string> = { ...home };
      for (const pair of exported.split(' ')) {
        const [k, v] = pair.split('=');
        as[k] = v;
      }
      const caps = await inFormat('json', ['request', 'caps'], as);
      expect(caps).toMatchObject({ requestable_roles: ['auditor', 'dba'] });
      srv.child.kill('SIGTERM');
      expect((await srv.exited()).code).toBe(0);
    },
  );

  bundleCase(['completion'], 'bash, zsh and fish', async () => {
    const home = { PATH: process.env.PATH ?? '', HOME: server.dir };
    expect(await ok(['completion', 'bash'], home)).toContain('complete -F');
    expect(await ok(['completion', 'zsh'], home)).toContain('#compdef access');
    expect(await ok(['completion', 'fish'], home)).toContain('complete -c access');
  });

  bundleCase(
    ['status', 'request assume'],
    'status in each format; assume an approved request without waiting',
    async () => {
      const alice = await copyIdentity(server, 'alice');
      const req = await pending('alice', 'auditor', 'assume');
      await ok(['request', 'review', req.id, '--approve', '--reason', 'fine'], env('bob'));
      const assumed = await run(['request', 'assume', req.id], alice.env);
      expect(assumed.code, assumed.stderr).toBe(0);
      for (const format of FORMATS) {
        const status = await inFormat(format, ['status'], alice.env);
        if (format === 'text') expect(status).toContain(req.id);
        else {
          expectSchema('status', status);
          expect(status).toMatchObject({ user: 'alice', active_requests: [{ id: req.id }] });
        }
      }
    },
  );

  bundleCase(['mcp'], '--print-config names this installation', async () => {
    const config = JSON.parse(await ok(['mcp', '--print-config'], env('alice')));
    expect(config.mcpServers.access.args.at(-1)).toBe('mcp');
  });

  test('every leaf command of the manifest has a case here, and it ran', () => {
    const all = leaves().map((l) => l.path.join(' '));
    const hint = 'add a case to test/e2e/bundle/commands.test.ts for';
    expect(
      all.filter((l) => !declared.has(l)),
      hint,
    ).toEqual([]);
    expect(
      all.filter((l) => !spawned.has(l)),
      'these cases never spawned their command',
    ).toEqual([]);
  });
});
