/**
 * What each command's parse makes of argv, table-driven: valid argv gives exactly these
 * options; invalid argv is a usage error (exit 2), whether commander or parse refuses it.
 * Every command of the manifest has a table, and every flag it defines appears in a valid
 * case. In-process, no server.
 */
import { CommanderError, type OptionValues } from '@commander-js/extra-typings';
import { describe, expect, test } from 'vitest';
import type { CommandModule } from '../../../src/cli/command.js';
import * as completion from '../../../src/cli/commands/completion.js';
import * as exec from '../../../src/cli/commands/exec.js';
import * as lockLs from '../../../src/cli/commands/lock-ls.js';
import * as lockRm from '../../../src/cli/commands/lock-rm.js';
import * as mcp from '../../../src/cli/commands/mcp.js';
import * as requestApprove from '../../../src/cli/commands/request-approve.js';
import * as requestAssume from '../../../src/cli/commands/request-assume.js';
import * as requestCaps from '../../../src/cli/commands/request-caps.js';
import * as requestCreate from '../../../src/cli/commands/request-create.js';
import * as requestDeny from '../../../src/cli/commands/request-deny.js';
import * as requestDrop from '../../../src/cli/commands/request-drop.js';
import * as requestLock from '../../../src/cli/commands/request-lock.js';
import * as requestLs from '../../../src/cli/commands/request-ls.js';
import * as requestReview from '../../../src/cli/commands/request-review.js';
import * as requestRm from '../../../src/cli/commands/request-rm.js';
import * as requestSearch from '../../../src/cli/commands/request-search.js';
import * as requestShow from '../../../src/cli/commands/request-show.js';
import * as requestWait from '../../../src/cli/commands/request-wait.js';
import * as requestWatch from '../../../src/cli/commands/request-watch.js';
import * as ruleCreate from '../../../src/cli/commands/rule-create.js';
import * as ruleLs from '../../../src/cli/commands/rule-ls.js';
import * as ruleRm from '../../../src/cli/commands/rule-rm.js';
import * as ruleShow from '../../../src/cli/commands/rule-show.js';
import * as ruleTest from '../../../src/cli/commands/rule-test.js';
import * as ruleUpdate from '../../../src/cli/commands/rule-update.js';
import * as serverStart from '../../../src/cli/commands/server-start.js';
import * as signHelper from '../../../src/cli/commands/sign-helper.js';
import * as status from '../../../src/cli/commands/status.js';
import * as webhookConfigure from '../../../src/cli/commands/webhook-configure.js';
import * as webhookServe from '../../../src/cli/commands/webhook-serve.js';
import { reportFor } from '../../../src/cli/main.js';
import { leaves } from '../../../src/cli/manifest.js';
import { UsageError } from '../../../src/model/errors.js';
import { MAX_REASON_BYTES } from '../../../src/model/limits.js';
import { parseResourceId } from '../../../src/model/resource-id.js';
import { parseArgv } from './parse-argv.js';

const ID1 = '0193c1e2-7b3a-7c4d-9e5f-0a1b2c3d4e5f';
const ID2 = '0193c1e2-7b3a-7c4d-9e5f-0a1b2c3d4e60';
const ID3 = '0193c1e2-7b3a-7c4d-9e5f-0a1b2c3d4e61';
const NODE = '/root/node/db-1';
const H = 3_600_000;
const LONG_REASON = 'x'.repeat(MAX_REASON_BYTES + 1);

interface Spec<O> {
  /** The options every valid case shares, unless it says otherwise. */
  defaults: Partial<O>;
  /** argv after the command name → the options that differ from `defaults`. */
  valid: [string[], Partial<O>][];
  /** argv after the command name that must be refused as a usage error. */
  invalid: string[][];
}

interface Table extends Spec<unknown> {
  /** The command path, as in the manifest. */
  path: string;
  /** Parses `access <command> ...argv` and returns the command's options. */
  parse(argv: string[]): unknown;
  /** The flags the command defines. */
  flags(): readonly { long?: string; short?: string; flags: string }[];
}

function table<A extends unknown[], F extends OptionValues, O>(
  path: string,
  mod: CommandModule<A, F, O>,
  spec: Spec<O>,
): Table {
  return {
    path,
    ...(spec as Spec<unknown>),
    parse: (argv) => parseArgv(mod, [mod.define().name(), ...argv]).opts,
    flags: () => mod.define().options,
  };
}

const TABLES: Table[] = [
  table('request ls', requestLs, {
    defaults: {
      mine: false,
      reviewable: false,
      suggested: false,
      reviewed: false,
      search: [],
      all: false,
      sort: 'created',
      ascending: false,
    },
    valid: [
      [[], {}],
      [
        [
          '--state',
          'approved',
          '--user',
          'bob',
          '--search',
          ' db  prod ',
          '--all',
          '--sort',
          'user',
          '--asc',
        ],
        {
          state: 'APPROVED',
          user: 'bob',
          search: ['db', 'prod'],
          all: true,
          sort: 'user',
          ascending: true,
        },
      ],
      [['--mine', '--limit', '5'], { mine: true, limit: 5 }],
      // tsh's name for --mine (issue 23).
      [['--my-requests'], { mine: true }],
      [['--reviewable', '--suggested'], { reviewable: true, suggested: true }],
      [['--reviewed', '--condition', 'true'], { reviewed: true, condition: 'true' }],
    ],
    invalid: [
      ['--mine', '--reviewable'],
      ['--mine', '--suggested'],
      ['--reviewed', '--mine'],
      ['--limit', '0'],
      ['--limit', '2x'],
      ['--sort', 'size'],
      ['--state', 'OPEN'],
      ['--bogus'],
      ['extra'],
    ],
  }),
  table('request show', requestShow, {
    defaults: {},
    valid: [
      [[ID1], { ids: [ID1] }],
      [[ID1, `${ID2}, ${ID3}`], { ids: [ID1, ID2, ID3] }],
    ],
    invalid: [[], ['not-a-uuid'], [`${ID1},`]],
  }),
  table('request search', requestSearch, {
    defaults: {
      roles: false,
      descriptions: false,
      keywords: [],
      query: '',
      labels: {},
      kubeApiGroup: '',
      namespace: 'default',
    },
    valid: [
      [['--roles'], { roles: true }],
      [['--roles', '--descriptions'], { roles: true, descriptions: true }],
      [
        ['--kind', 'node', '--search', 'foo,"a, b"', '--query', 'x == y', '--labels', 'env=prod,team=a'],
        { kind: 'node', keywords: ['foo', 'a, b'], query: 'x == y', labels: { env: 'prod', team: 'a' } },
      ],
      [
        ['--kind', 'kube_resource', '--kube-kind', 'deployments', '--kube-api-group', 'apps'].concat(
          '--kube-cluster',
          'k1',
          '--namespace',
          'ns1',
        ),
        {
          kind: 'kube_resource',
          kubeKind: 'deployments',
          kubeApiGroup: 'apps',
          kubeCluster: 'k1',
          namespace: 'ns1',
        },
      ],
      [
        ['--kind', 'kube_resource', '--kube-kind', 'pods', '--kube-cluster', 'k1', '--all-kube-namespaces'],
        { kind: 'kube_resource', kubeKind: 'pods', kubeCluster: 'k1', namespace: '' },
      ],
      // tsh's older name for --namespace (issue 23).
      [
        ['--kind', 'kube_resource', '--kube-kind', 'pods', '--kube-cluster', 'k1', '--kube-namespace', 'ns2'],
        { kind: 'kube_resource', kubeKind: 'pods', kubeCluster: 'k1', namespace: 'ns2' },
      ],
    ],
    invalid: [
      ['--kind', 'kube_resource', '--kube-kind', 'pods', '--kube-cluster', 'k1', '--namespace', 'a'].concat(
        '--kube-namespace',
        'b',
      ),
      ['--kind', 'node', '--kube-namespace', 'ns'],
      [],
      ['--kind', 'node', '--roles'],
      ['--kind', 'node', '--descriptions'],
      ['--kind', 'planet'],
      ['--kind', 'node', '--kube-kind', 'pods'],
      ['--kind', 'node', '--namespace', 'ns'],
      ['--kind', 'kube_resource', '--kube-cluster', 'k1'],
      ['--kind', 'kube_resource', '--kube-kind', 'pods'],
      ['--kind', 'kube_resource', '--kube-kind', 'deployments', '--kube-cluster', 'k1'],
      ['--kind', 'kube_resource', '--kube-kind', 'pods', '--kube-cluster', 'k1', '--namespace', 'a'].concat(
        '--all-kube-namespaces',
      ),
      ['--kind', 'node', '--labels', 'env'],
    ],
  }),
  table('request create', requestCreate, {
    defaults: {
      roles: ['dba'],
      resources: [],
      reason: '',
      reviewers: [],
      dryRun: false,
      wait: true,
      assume: true,
      noInput: false,
    },
    valid: [
      [['--roles', 'dba'], {}],
      [
        ['--roles', 'dba, web', '--resource', NODE, '--resource', '/root/db/pg', '--reason', 'ticket 1'],
        {
          roles: ['dba', 'web'],
          resources: [parseResourceId(NODE), parseResourceId('/root/db/pg')],
          reason: 'ticket 1',
        },
      ],
      [
        ['--roles', 'dba', '--reviewers', 'bob,carol', '--request-ttl', '1h', '--session-ttl', '2h'].concat(
          '--max-duration',
          '8h',
          '--assume-start-time',
          '2030-01-02T03:04:05Z',
          '--user',
          'dave',
        ),
        {
          reviewers: ['bob', 'carol'],
          requestTtlMs: H,
          sessionTtlMs: 2 * H,
          maxDurationMs: 8 * H,
          assumeStartTime: new Date('2030-01-02T03:04:05Z'),
          user: 'dave',
        },
      ],
      [
        ['--roles', 'dba', '--wait', '--timeout', '10m', '--no-assume'],
        { timeoutMs: 600_000, assume: false },
      ],
      [['--roles', 'dba', '--nowait', '--no-input'], { wait: false, noInput: true }],
      [['--roles', 'dba', '--dry-run'], { dryRun: true, wait: false }],
      // Resource IDs as arguments, as people write them after tsh's --resource (issue 23).
      [
        [NODE, '--resource', '/root/db/pg', '--reason', 'r'],
        { roles: [], resources: [parseResourceId(NODE), parseResourceId('/root/db/pg')], reason: 'r' },
      ],
    ],
    invalid: [
      [],
      ['--reason', 'why'],
      ['dba', '--reason', 'why'],
      ['--roles', 'dba', '--wait', '--nowait'],
      ['--roles', 'dba', '--nowait', '--timeout', '1m'],
      ['--roles', 'dba', '--request-ttl', '0s'],
      ['--roles', 'dba', '--session-ttl', 'soon'],
      ['--roles', 'dba', '--assume-start-time', 'tomorrow'],
      ['--roles', 'dba', '--timeout', '0s'],
      ['--resource', 'db-1'],
      ['--roles', 'dba', '--reason', 'x'.repeat(5 * MAX_REASON_BYTES)],
    ],
  }),
  table('request wait', requestWait, {
    defaults: { id: ID1, assume: true },
    valid: [
      [[ID1], {}],
      [[ID1, '--timeout', '90s', '--no-assume'], { timeoutMs: 90_000, assume: false }],
    ],
    invalid: [[], [`${ID1},${ID2}`], [ID1, '--timeout', '-1s'], ['nope']],
  }),
  table('request assume', requestAssume, {
    defaults: { id: ID1 },
    valid: [[[ID1], {}]],
    invalid: [[], [`${ID1},${ID2}`], [ID1, ID2], ['nope']],
  }),
  table('status', status, {
    defaults: {},
    valid: [[[], {}]],
    invalid: [[ID1], ['--user', 'bob']],
  }),
  table('mcp', mcp, {
    defaults: { allowReview: false, printConfig: false },
    valid: [
      [[], {}],
      [['--allow-review', '--print-config'], { allowReview: true, printConfig: true }],
    ],
    invalid: [['serve'], ['--allow-reviews']],
  }),
  table('request review', requestReview, {
    defaults: { id: ID1, reason: '' },
    valid: [
      [[ID1, '--approve'], { approve: true }],
      [
        [ID1, '--deny', '--reason', 'no', '--assume-start-time', '2030-01-01T00:00:00Z'],
        { approve: false, reason: 'no', assumeStartTime: new Date('2030-01-01T00:00:00Z') },
      ],
    ],
    invalid: [
      [ID1],
      [ID1, '--approve', '--deny'],
      [ID1, '--approve', '--reason', LONG_REASON],
      [`${ID1},${ID2}`],
    ],
  }),
  table('request approve', requestApprove, {
    defaults: { ids: [ID1], state: 'APPROVED', reason: '', annotations: {}, roles: [], delegator: '' },
    valid: [
      [[ID1], {}],
      [
        [ID1, ID2, '--roles', 'dba', '--reason', 'ok', '--annotations', 'k=v,k=w,t=1'].concat(
          '--assume-start-time',
          '2030-01-01T00:00:00Z',
          '--delegator',
          'bot',
        ),
        {
          ids: [ID1, ID2],
          roles: ['dba'],
          reason: 'ok',
          annotations: { k: ['v', 'w'], t: ['1'] },
          assumeStartTime: new Date('2030-01-01T00:00:00Z'),
          delegator: 'bot',
        },
      ],
    ],
    invalid: [[], ['x'], [ID1, '--annotations', 'novalue'], [ID1, '--reason', LONG_REASON]],
  }),
  table('request deny', requestDeny, {
    defaults: { ids: [ID1], state: 'DENIED', reason: '', annotations: {}, roles: [], delegator: '' },
    valid: [
      [[ID1], {}],
      [
        [ID1, '--reason', 'no', '--annotations', 'k=v', '--delegator', 'bot'],
        { reason: 'no', annotations: { k: ['v'] }, delegator: 'bot' },
      ],
    ],
    invalid: [[], [ID1, '--roles', 'dba'], [ID1, '--assume-start-time', '2030-01-01T00:00:00Z']],
  }),
  table('request drop', requestDrop, {
    defaults: { ids: [], lock: false },
    valid: [
      [[], {}],
      [['*'], {}],
      [[ID1, ID2, '--lock'], { ids: [ID1, ID2], lock: true }],
    ],
    invalid: [['nope']],
  }),
  table('request rm', requestRm, {
    defaults: { ids: [ID1], force: false, lock: false },
    valid: [
      [[ID1], {}],
      [[`${ID1},${ID2}`, '--force', '--lock'], { ids: [ID1, ID2], force: true, lock: true }],
    ],
    invalid: [[], ['*']],
  }),
  table('request lock', requestLock, {
    defaults: { id: ID1 },
    valid: [
      [[ID1], {}],
      [[ID1, '--ttl', '30m', '--message', 'revoked'], { ttlMs: 1_800_000, message: 'revoked' }],
    ],
    invalid: [[], ['nope'], [ID1, '--ttl', '0s'], [ID1, '--message', ' ']],
  }),
  table('request watch', requestWatch, {
    defaults: {},
    valid: [
      [[], {}],
      [
        ['--state', 'pending', '--user', 'bob', '--id', ID1, '--condition', 'true'],
        { state: 'PENDING', user: 'bob', id: ID1, condition: 'true' },
      ],
    ],
    invalid: [['--state', 'OPEN'], ['--id', 'nope'], ['extra']],
  }),
  table('request caps', requestCaps, {
    defaults: {},
    valid: [
      [[], {}],
      [['--user', 'bob'], { user: 'bob' }],
    ],
    invalid: [['--user']],
  }),
  table('exec', exec, {
    defaults: { roles: ['dba'], resources: [], reason: 'why', lock: false, command: 'psql', args: [] },
    valid: [
      [['--roles', 'dba', '--reason', ' why ', '--', 'psql'], {}],
      [
        [
          '--roles',
          'dba',
          '--roles',
          'web',
          '--resource',
          NODE,
          '--reason',
          'why',
          '--max-duration',
          '1h',
        ].concat('--timeout', '5m', '--lock', '--', 'psql', '-h', 'db'),
        {
          roles: ['dba', 'web'],
          resources: [parseResourceId(NODE)],
          maxDurationMs: H,
          timeoutMs: 300_000,
          lock: true,
          args: ['-h', 'db'],
        },
      ],
    ],
    invalid: [
      ['--roles', 'dba', '--reason', 'why'],
      ['--roles', 'dba', '--', 'psql'],
      ['--roles', 'dba', '--reason', '  ', '--', 'psql'],
      ['--reason', 'why', '--', 'psql'],
      ['--roles', 'dba', '--reason', 'why', '--max-duration', '0s', '--', 'psql'],
      ['--roles', 'dba', '--reason', 'why', '--timeout', 'later', '--', 'psql'],
    ],
  }),
  table('lock ls', lockLs, {
    defaults: { inForce: false },
    valid: [
      [[], {}],
      [['--in-force'], { inForce: true }],
    ],
    invalid: [['--all']],
  }),
  table('lock rm', lockRm, {
    defaults: {},
    valid: [[['a', 'b'], { names: ['a', 'b'] }]],
    invalid: [[], ['a', ' ']],
  }),
  table('rule ls', ruleLs, {
    defaults: {},
    valid: [[[], {}]],
    invalid: [['--all']],
  }),
  table('rule show', ruleShow, {
    defaults: {},
    valid: [[[' r1 '], { name: 'r1' }]],
    invalid: [[], [' ']],
  }),
  table('rule create', ruleCreate, {
    defaults: {},
    valid: [
      [['-f', 'rules.yaml'], { file: 'rules.yaml' }],
      [['--file', 'r.yaml'], { file: 'r.yaml' }],
    ],
    invalid: [[], ['-f'], ['-f', '']],
  }),
  table('rule update', ruleUpdate, {
    defaults: {},
    valid: [[['--file', 'rules.yaml'], { file: 'rules.yaml' }]],
    invalid: [[], ['-f', '']],
  }),
  table('rule rm', ruleRm, {
    defaults: {},
    valid: [[['a', ' b '], { names: ['a', 'b'] }]],
    invalid: [[], ['a', '']],
  }),
  table('rule test', ruleTest, {
    defaults: {},
    valid: [
      [['r1', '--request', ID1], { name: 'r1', requestId: ID1 }],
      [['-f', 'rules.yaml', '--request-file', 'req.json'], { file: 'rules.yaml', requestFile: 'req.json' }],
    ],
    invalid: [
      ['--request', ID1],
      ['r1', '-f', 'rules.yaml', '--request', ID1],
      ['r1'],
      ['r1', '--request', ID1, '--request-file', 'req.json'],
    ],
  }),
  table('webhook serve', webhookServe, {
    defaults: {},
    valid: [[['--config', 'w.toml'], { config: 'w.toml' }]],
    invalid: [[], ['--config', '']],
  }),
  table('webhook configure', webhookConfigure, {
    defaults: {},
    valid: [[[], {}]],
    invalid: [['extra'], ['--config', 'x']],
  }),
  table('sign-helper', signHelper, {
    defaults: {
      user: 'bot',
      out: 'auth',
      outFormat: 'tls',
      ttlMs: 12 * H,
      ttlText: '12h',
      overwrite: false,
      printRbac: false,
      verify: false,
    },
    valid: [
      [['--user', 'bot', '-o', 'auth'], {}],
      [
        ['--user', 'bot', '--out', 'id', '--out-format', 'file', '--ttl', '1h', '--overwrite', '--verify'],
        { out: 'id', outFormat: 'file', ttlMs: H, ttlText: '1h', overwrite: true, verify: true },
      ],
      [['--user', 'bot', '--out', 'id', '-f', 'file'], { out: 'id', outFormat: 'file' }],
      [['--print-rbac'], { user: undefined, out: undefined, printRbac: true }],
    ],
    invalid: [
      [],
      ['--user', 'bot'],
      ['--out', 'auth'],
      ['--user', 'b o t', '--out', 'auth'],
      ['--user', 'bot', '--out', 'dir/'],
      ['--user', 'bot', '--out', 'auth', '--ttl', '0s'],
      ['--user', 'bot', '--out', 'auth', '--format', 'pem'],
      ['--user', 'bot', '--out', 'auth', '--format', 'file', '--out-format', 'tls'],
      ['--print-rbac', '--verify'],
    ],
  }),
  table('server start', serverStart, {
    defaults: { listen: '127.0.0.1:3025' },
    valid: [
      [[], {}],
      [
        ['--data-dir', '/d', '--listen', '127.0.0.1:0', '--seed', 's.yaml', '--cluster-name', 'c'],
        { dataDir: '/d', listen: '127.0.0.1:0', seedFile: 's.yaml', clusterName: 'c' },
      ],
    ],
    invalid: [['--listen'], ['extra']],
  }),
  table('completion', completion, {
    defaults: {},
    valid: [
      [['bash'], { shell: 'bash' }],
      [['zsh'], { shell: 'zsh' }],
      [['fish'], { shell: 'fish' }],
    ],
    invalid: [[], ['tcsh']],
  }),
];

describe('parse: valid argv → options', () => {
  for (const t of TABLES) {
    test.each(t.valid.map(([argv, opts]) => [argv.join(' ') || '(none)', argv, opts] as const))(
      `${t.path} %s`,
      (_label, argv, opts) => {
        expect(t.parse(argv)).toEqual({ ...t.defaults, ...opts });
      },
    );
  }
});

describe('parse: invalid argv → usage error (exit 2)', () => {
  for (const t of TABLES) {
    test.each(t.invalid.map((argv) => [argv.join(' ') || '(none)', argv] as const))(
      `${t.path} %s`,
      (_label, argv) => {
        let err: unknown;
        try {
          t.parse(argv);
        } catch (e) {
          err = e;
        }
        expect(err instanceof UsageError || err instanceof CommanderError).toBe(true);
        expect(reportFor(err).code).toBe(2);
      },
    );
  }
});

describe('the tables', () => {
  test('cover every command of the manifest', () => {
    expect(TABLES.map((t) => t.path).sort()).toEqual(
      leaves()
        .map((l) => l.path.join(' '))
        .sort(),
    );
  });

  test.each(TABLES.map((t) => [t.path, t] as const))('%s: every flag appears in a valid case', (_path, t) => {
    const used = new Set(t.valid.flatMap(([argv]) => argv));
    const missing = t
      .flags()
      .filter(
        (o) => !(o.long !== undefined && used.has(o.long)) && !(o.short !== undefined && used.has(o.short)),
      )
      .map((o) => o.flags);
    expect(missing).toEqual([]);
  });
});
