/**
 * Hostile and mistaken input, across every command, run in-process through main() against an
 * embedded server on port 0: each case names the exit code and the first stderr line, and
 * afterwards nothing has changed: the server's request list and the caller's identity file
 * are byte for byte what they were.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AccessRequestV3 } from '../../src/gen/teleport/legacy/types/types.js';
import type { AccessRequest } from '../../src/model/request.js';
import { copyIdentity, startTestServer, type TestServer } from '../helpers/e2e.js';
import { connectIdentity, type TestClient } from '../helpers/grpc.js';
import { runCli } from '../helpers/run-cli.js';

let server: TestServer;
let aliceIdentity: string;
let adminClient: TestClient;
const envs: Record<string, Record<string, string>> = {};
/** A pending request of alice's (dba, so bob may review it and dave may not see it). */
let PENDING: string;
/** A well-formed ID no request has. */
const MISSING = randomUUID();

beforeAll(async () => {
  server = await startTestServer();
  const alice = await copyIdentity(server, 'alice');
  aliceIdentity = alice.path;
  envs.alice = alice.env;
  for (const u of ['bob', 'dave', 'admin']) envs[u] = server.env(u);
  const r = await runCli(
    ['request', 'create', '--roles', 'dba', '--reason', 'seed', '--nowait', '-f', 'json'],
    {
      env: envs.alice,
    },
  );
  expect(r.code, r.stderr).toBe(0);
  PENDING = (JSON.parse(r.stdout) as AccessRequest).id;
  adminClient = await connectIdentity(server.addr, server.identity('admin'));
});

afterAll(async () => {
  adminClient?.close();
  await server?.close();
});

/**
 * Everything a bad input must leave alone: every stored request as its wire bytes (read over
 * one admin connection, not a CLI run per case) and alice's identity file.
 */
async function snapshot(): Promise<{ requests: string[]; identity: Buffer }> {
  const requests: string[] = [];
  let startKey = '';
  do {
    const page = await adminClient.call('listAccessRequests', {
      filter: undefined,
      sort: 0,
      descending: false,
      limit: 64,
      startKey,
    });
    for (const r of page.accessRequests)
      requests.push(Buffer.from(AccessRequestV3.encode(r).finish()).toString('base64'));
    startKey = page.nextKey;
  } while (startKey);
  return { requests, identity: await readFile(aliceIdentity) };
}

const OSC = '\u001b]0;pwned\u0007';
const names = (n: number, len = 4) =>
  Array.from({ length: n }, (_, i) => `u${String(i).padStart(len, '0')}`).join(',');
const pairs = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join(',');

type Case = [
  label: string,
  argv: () => string[],
  code: number,
  firstLine: RegExp,
  user?: string,
  env?: Record<string, string>,
];

const ID_ERR = /^error: invalid request ID /;

const CASES: Case[] = [
  // Request IDs: one syntax check for every command that takes them (exit 2, not 6).
  [
    'show: not a UUID',
    () => ['request', 'show', 'not-a-uuid'],
    2,
    /^error: invalid request ID "not-a-uuid": expected a UUID/,
  ],
  ['show: one bad ID among good ones', () => ['request', 'show', `${PENDING},nope`], 2, ID_ERR],
  ['show: a UUID with trailing junk', () => ['request', 'show', `${PENDING}x`], 2, ID_ERR],
  ['show: a UUID missing a digit', () => ['request', 'show', PENDING.slice(1)], 2, ID_ERR],
  ['show: an empty ID', () => ['request', 'show', ''], 2, /^error: empty request ID$/],
  [
    'show: an empty ID between commas',
    () => ['request', 'show', `${PENDING},,`],
    2,
    /^error: empty request ID$/,
  ],
  [
    'show: a terminal escape as the ID is printed escaped',
    () => ['request', 'show', OSC],
    2,
    /^error: invalid request ID "\\u001b\]0;pwned\\u0007"/,
  ],
  ['rm: not a UUID', () => ['request', 'rm', 'not-a-uuid'], 2, ID_ERR],
  ['rm --force: not a UUID', () => ['request', 'rm', '--force', 'x'], 2, ID_ERR],
  ['approve: not a UUID', () => ['request', 'approve', 'bad'], 2, ID_ERR, 'admin'],
  [
    'approve: a good then a bad ID changes nothing',
    () => ['request', 'approve', PENDING, 'bad'],
    2,
    ID_ERR,
    'admin',
  ],
  ['deny: not a UUID', () => ['request', 'deny', 'bad'], 2, ID_ERR, 'admin'],
  ['review: not a UUID', () => ['request', 'review', 'bad', '--approve'], 2, ID_ERR, 'bob'],
  ['wait: not a UUID', () => ['request', 'wait', 'bad'], 2, ID_ERR],
  ['drop: not a UUID (the identity is not re-issued)', () => ['request', 'drop', 'not-a-uuid'], 2, ID_ERR],
  ['drop: a good and a bad ID', () => ['request', 'drop', `${PENDING},bad`], 2, ID_ERR],
  ['watch --id: not a UUID (no endless watch)', () => ['request', 'watch', '--id', 'bad'], 2, ID_ERR],
  [
    'show: a well-formed ID that does not exist is not found',
    () => ['request', 'show', MISSING],
    6,
    /^error: access request ".*" not found$/,
  ],

  // Addresses.
  [
    '--auth-server ::::',
    () => ['request', 'ls', '--auth-server', '::::'],
    2,
    /^error: invalid --auth-server "::::": expected HOST:PORT/,
  ],
  [
    '--auth-server port out of range',
    () => ['request', 'ls', '--auth-server', 'localhost:99999'],
    2,
    /^error: invalid --auth-server "localhost:99999": port must be/,
  ],
  [
    '--auth-server port 0',
    () => ['request', 'ls', '--auth-server', 'localhost:0'],
    2,
    /^error: invalid --auth-server .*port must be/,
  ],
  [
    '--auth-server missing host',
    () => ['request', 'ls', '--auth-server', ':3025'],
    2,
    /^error: invalid --auth-server ":3025": missing the host/,
  ],
  [
    '--auth-server with a space',
    () => ['request', 'ls', '--auth-server', 'auth server:3025'],
    2,
    /^error: invalid --auth-server "auth server:3025": the host is not/,
  ],
  [
    '--auth-server with an escape',
    () => ['request', 'ls', '--auth-server', `${OSC}:3025`],
    2,
    /^error: invalid --auth-server "\\u001b/,
  ],
  [
    '--proxy with an unclosed bracket',
    () => ['request', 'ls', '--proxy', '[::1'],
    2,
    /^error: invalid --proxy "\[::1"/,
  ],
  [
    '--proxy with a non-IPv6 in brackets',
    () => ['request', 'ls', '--proxy', '[host]:443'],
    2,
    /^error: invalid --proxy "\[host\]:443": expected an IPv6/,
  ],
  [
    '--proxy together with --auth-server',
    () => ['request', 'ls', '--proxy', 'p.example.com:443', '--auth-server', '127.0.0.1:3025'],
    2,
    /^error: --auth-server and --proxy cannot be combined/,
  ],
  [
    'ACCESS_AUTH_SERVER that is not an address',
    () => ['request', 'ls'],
    2,
    /^error: invalid ACCESS_AUTH_SERVER "::::"/,
    'alice',
    { ACCESS_AUTH_SERVER: '::::' },
  ],

  // Durations and times.
  [
    'create --request-ttl 5x',
    () => ['request', 'create', '--roles', 'dba', '--request-ttl', '5x'],
    2,
    /^error: invalid duration "5x" for --request-ttl/,
  ],
  [
    'create --session-ttl -1h',
    () => ['request', 'create', '--roles', 'dba', '--session-ttl', '-1h'],
    2,
    /^error: invalid duration "-1h" for --session-ttl: must not be negative/,
  ],
  [
    'create --max-duration empty',
    () => ['request', 'create', '--roles', 'dba', '--max-duration', ''],
    2,
    /^error: invalid duration "" for --max-duration: empty value/,
  ],
  [
    'create --request-ttl 0',
    () => ['request', 'create', '--roles', 'dba', '--request-ttl', '0'],
    2,
    /^error: request TTL value must be greater than zero/,
  ],
  [
    'create --request-ttl beyond int64',
    () => ['request', 'create', '--roles', 'dba', '--request-ttl', '9999999999h'],
    2,
    /^error: invalid duration "9999999999h" for --request-ttl: too large/,
  ],
  [
    'create --request-ttl unknown unit',
    () => ['request', 'create', '--roles', 'dba', '--request-ttl', '3w'],
    2,
    /^error: invalid duration "3w" for --request-ttl: unknown unit "w"/,
  ],
  [
    'create --timeout soon',
    () => ['request', 'create', '--roles', 'dba', '--timeout', 'soon'],
    2,
    /^error: invalid duration "soon" for --timeout/,
  ],
  [
    'create --assume-start-time tomorrow',
    () => ['request', 'create', '--roles', 'dba', '--assume-start-time', 'tomorrow'],
    2,
    /^error: invalid time "tomorrow" for --assume-start-time/,
  ],
  [
    'create --assume-start-time Feb 30',
    () => ['request', 'create', '--roles', 'dba', '--assume-start-time', '2026-02-30T10:00:00Z'],
    2,
    /day 30 is out of range/,
  ],
  [
    'create --assume-start-time without a zone',
    () => ['request', 'create', '--roles', 'dba', '--assume-start-time', '2026-11-21T10:00:00'],
    2,
    /^error: invalid time "2026-11-21T10:00:00"/,
  ],
  [
    '--rpc-timeout fast',
    () => ['request', 'ls', '--rpc-timeout', 'fast'],
    2,
    /^error: invalid duration "fast" for --rpc-timeout/,
  ],
  [
    '--rpc-timeout 0',
    () => ['request', 'ls', '--rpc-timeout', '0'],
    2,
    /^error: the RPC timeout must be greater than zero/,
  ],
  [
    'ls --timeout 0 (the RPC deadline)',
    () => ['request', 'ls', '--timeout', '0'],
    2,
    /^error: the RPC timeout must be greater than zero/,
  ],
  [
    'ACCESS_RPC_TIMEOUT bad',
    () => ['request', 'ls'],
    2,
    /^error: invalid duration "x" for ACCESS_RPC_TIMEOUT/,
    'alice',
    { ACCESS_RPC_TIMEOUT: 'x' },
  ],
  [
    'wait --timeout 1x',
    () => ['request', 'wait', PENDING, '--timeout', '1x'],
    2,
    /^error: invalid duration "1x" for --timeout/,
  ],
  [
    'wait --timeout 0',
    () => ['request', 'wait', PENDING, '--timeout', '0'],
    2,
    /^error: --timeout must be greater than zero/,
  ],
  [
    'approve --assume-start-time 10:00',
    () => ['request', 'approve', PENDING, '--assume-start-time', '10:00'],
    2,
    /^error: invalid time "10:00"/,
    'admin',
  ],
  [
    'review --assume-start-time x',
    () => ['request', 'review', PENDING, '--approve', '--assume-start-time', 'x'],
    2,
    /^error: invalid time "x"/,
    'bob',
  ],

  // Resource IDs.
  [
    'create --resource with no name',
    () => ['request', 'create', '--resource', '/local/node'],
    2,
    /^error: invalid resource ID "\/local\/node": /,
  ],
  [
    'create --resource without the leading slash',
    () => ['request', 'create', '--resource', 'local/node/x'],
    2,
    /^error: invalid resource ID "local\/node\/x"/,
  ],
  [
    'create --resource kube without namespace',
    () => ['request', 'create', '--resource', '/local/kube:ns:pods/minikube/nginx'],
    2,
    /^error: invalid resource ID "\/local\/kube:ns:pods\/minikube\/nginx"/,
  ],
  [
    'create --resource empty',
    () => ['request', 'create', '--resource', ''],
    2,
    /^error: invalid resource ID ""/,
  ],
  [
    'create --resource of an unknown kind',
    () => ['request', 'create', '--resource', '/local/printer/x'],
    2,
    /^error: invalid resource ID "\/local\/printer\/x"/,
  ],

  // Size limits, checked before sending.
  [
    'create: 9 suggested reviewers',
    () => ['request', 'create', '--roles', 'dba', '--reviewers', names(9)],
    2,
    /^error: access request names too many suggested reviewers \(9\), max 8$/,
  ],
  [
    'create: 35,000 suggested reviewers',
    () => ['request', 'create', '--roles', 'dba', '--reviewers', names(35_000, 5)],
    2,
    /^error: access request names too many suggested reviewers \(35000\), max 8$/,
  ],
  [
    'create: a 200-byte reviewer name',
    () => ['request', 'create', '--roles', 'dba', '--reviewers', 'r'.repeat(200)],
    2,
    /^error: suggested reviewer "r{20}…" is too long, max 128 bytes$/,
  ],
  [
    'create: a terminal escape as a reviewer is refused escaped',
    () => ['request', 'create', '--roles', 'dba', '--reviewers', `${OSC}${'x'.repeat(130)}`],
    2,
    /^error: suggested reviewer "\\u001b\]0;pwned\\u0007x+…" is too long/,
  ],
  [
    'create: a 4097-byte reason',
    () => ['request', 'create', '--roles', 'dba', '--reason', 'r'.repeat(4097)],
    2,
    /^error: access request reason is too long, max 4096 bytes$/,
  ],
  [
    'create: a 4096-byte reason of 3-byte characters',
    () => ['request', 'create', '--roles', 'dba', '--reason', '€'.repeat(1366)],
    2,
    /^error: access request reason is too long, max 4096 bytes$/,
  ],
  [
    'create: 301 resources',
    () => [
      'request',
      'create',
      ...Array.from({ length: 301 }, (_, i) => ['--resource', `/local/node/n${i}`]).flat(),
    ],
    2,
    /^error: access request contains too many resources \(301\), max 300$/,
  ],
  [
    'create: resource IDs longer than 2048 in total',
    () => [
      'request',
      'create',
      ...Array.from({ length: 30 }, (_, i) => ['--resource', `/local/node/${'n'.repeat(70)}${i}`]).flat(),
    ],
    2,
    /^error: access request exceeds maximum length: try reducing the number of resources in the request$/,
  ],
  [
    'approve: 9 annotation values',
    () => ['request', 'approve', PENDING, '--annotations', pairs(9)],
    2,
    /^error: access request has too many annotation values \(9\), max 8$/,
    'admin',
  ],
  [
    'approve: 50,000 annotation values',
    () => ['request', 'approve', PENDING, '--annotations', pairs(50_000)],
    2,
    /^error: access request has too many annotation values \(50000\), max 8$/,
    'admin',
  ],
  [
    'approve: a 200-byte annotation key',
    () => ['request', 'approve', PENDING, '--annotations', `${'k'.repeat(200)}=v`],
    2,
    /^error: annotation key "k{20}…" is too long, max 64 bytes$/,
    'admin',
  ],
  [
    'deny: a 200-byte annotation value',
    () => ['request', 'deny', PENDING, '--annotations', `k=${'v'.repeat(200)}`],
    2,
    /^error: annotation value of "k" is too long, max 64 bytes$/,
    'admin',
  ],
  [
    'deny: a 4097-byte reason',
    () => ['request', 'deny', PENDING, '--reason', 'r'.repeat(4097)],
    2,
    /^error: --reason is too long, max 4096 bytes$/,
    'admin',
  ],
  [
    'review: a 4097-byte reason',
    () => ['request', 'review', PENDING, '--approve', '--reason', 'r'.repeat(4097)],
    2,
    /^error: --reason is too long, max 4096 bytes$/,
    'bob',
  ],

  // Label and annotation lists.
  [
    'approve --annotations without =',
    () => ['request', 'approve', PENDING, '--annotations', 'ticket'],
    2,
    /^error: invalid --annotations "ticket": expected key=value/,
    'admin',
  ],
  [
    'deny --annotations with an empty key',
    () => ['request', 'deny', PENDING, '--annotations', '=x'],
    2,
    /^error: invalid --annotations "=x": empty key/,
    'admin',
  ],
  [
    'approve --annotations with an empty value',
    () => ['request', 'approve', PENDING, '--annotations', 'k='],
    2,
    /^error: invalid --annotations "k=": empty value for "k"/,
    'admin',
  ],
  [
    'search --labels without =',
    () => ['request', 'search', '--kind', 'node', '--labels', 'env'],
    2,
    /^error: invalid --labels "env": expected key=value/,
  ],
  [
    'search --labels with a repeated key',
    () => ['request', 'search', '--kind', 'node', '--labels', 'a=1,a=2'],
    2,
    /^error: invalid --labels "a=2": duplicate key "a"/,
  ],
  [
    'search --labels with an empty key',
    () => ['request', 'search', '--kind', 'node', '--labels', '=v'],
    2,
    /^error: invalid --labels "=v": empty key/,
  ],

  // Predicates (checked by the server: InvalidArgument → exit 2, with the position).
  [
    'search --query 20,000 parentheses',
    () => [
      'request',
      'search',
      '--kind',
      'node',
      '--query',
      `${'('.repeat(20_000)}labels.env == "dev"${')'.repeat(20_000)}`,
    ],
    2,
    /^error: expression is nested too deeply \(more than 200 levels\) at position 200 in predicate$/,
  ],
  [
    'search --query 20,000 negations',
    () => ['request', 'search', '--kind', 'node', '--query', `${'!'.repeat(20_000)}true`],
    2,
    /nested too deeply .* at position 200 in predicate$/,
  ],
  [
    'search --query incomplete',
    () => ['request', 'search', '--kind', 'node', '--query', 'labels.env =='],
    2,
    /^error: unexpected end of expression at position 13 in predicate$/,
  ],
  [
    'search --query single quotes',
    () => ['request', 'search', '--kind', 'node', '--query', "labels.env == 'x'"],
    2,
    /^error: single-quoted strings are not supported/,
  ],
  [
    'search --query unknown function',
    () => ['request', 'search', '--kind', 'node', '--query', 'rm("x")'],
    2,
    /^error: unsupported function "rm" at position 0 in predicate$/,
  ],

  // Rule conditions (Teleport's expression language, checked before anything is sent: exit 2).
  [
    'ls --condition with 15,000 terms (issue 22: once a stack overflow, exit 1)',
    () => [
      'request',
      'ls',
      '--condition',
      Array.from({ length: 15_000 }, (_, i) => `access_request.spec.user == "u${i}"`).join(' || '),
    ],
    2,
    /^error: invalid --condition: condition is \d+ characters long, more than the 16384 allowed$/,
  ],
  [
    'ls --condition 5,000 parentheses',
    () => ['request', 'ls', '--condition', `${'('.repeat(5_000)}true${')'.repeat(5_000)}`],
    2,
    /^error: invalid --condition: parsing expression: expression is nested too deeply \(more than 200 levels\)$/,
  ],
  [
    'ls --condition with contains() as a function',
    () => ['request', 'ls', '--condition', 'contains(access_request.spec.roles, "dba")'],
    2,
    /^error: invalid --condition: parsing expression: unsupported function: contains$/,
  ],
  [
    'ls --condition with a type error',
    () => ['request', 'ls', '--condition', 'contains_any(access_request.spec.roles, "dba")'],
    2,
    /^error: invalid --condition: parsing expression: parsing second argument to \(contains_any\): expected type expression.Set, got value \(dba\) with type \(string\)$/,
  ],

  // Flags and usage.
  [
    'create without roles or resources',
    () => ['request', 'create'],
    2,
    /^error: at least one role or resource must be specified/,
  ],
  [
    'create --wait --nowait',
    () => ['request', 'create', '--roles', 'dba', '--wait', '--nowait'],
    2,
    /^error: --wait and --nowait cannot be combined/,
  ],
  [
    'create --nowait --timeout',
    () => ['request', 'create', '--roles', 'dba', '--nowait', '--timeout', '1m'],
    2,
    /^error: --timeout applies only when waiting/,
  ],
  [
    'review without --approve or --deny',
    () => ['request', 'review', PENDING],
    2,
    /^error: must supply exactly one of '--approve' or '--deny'/,
    'bob',
  ],
  [
    'review with both',
    () => ['request', 'review', PENDING, '--approve', '--deny'],
    2,
    /^error: must supply exactly one of/,
    'bob',
  ],
  [
    'review with two IDs',
    () => ['request', 'review', PENDING, MISSING, '--approve'],
    2,
    /^error: too many arguments/,
    'bob',
  ],
  ['wait without an ID', () => ['request', 'wait'], 2, /^error: missing required argument 'id'/],
  [
    'ls --state WAITING',
    () => ['request', 'ls', '--state', 'WAITING'],
    2,
    /^error: unknown request state "WAITING"/,
  ],
  ['ls --limit 0', () => ['request', 'ls', '--limit', '0'], 2, /^error: invalid --limit "0"/],
  ['ls --limit abc', () => ['request', 'ls', '--limit', 'abc'], 2, /^error: invalid --limit "abc"/],
  [
    'ls --sort size',
    () => ['request', 'ls', '--sort', 'size'],
    2,
    /^error: option '--sort <field>' argument 'size' is invalid/,
  ],
  [
    'ls --mine --reviewable',
    () => ['request', 'ls', '--mine', '--reviewable'],
    2,
    /^error: --mine cannot be combined with --reviewable/,
  ],
  ['ls --bogus', () => ['request', 'ls', '--bogus'], 2, /^error: unknown option '--bogus'/],
  [
    'ls --format xml',
    () => ['request', 'ls', '--format', 'xml'],
    2,
    /^error: option '-f, --format <format>' argument 'xml' is invalid/,
  ],
  [
    'ACCESS_FORMAT xml',
    () => ['request', 'ls'],
    2,
    /^error: unsupported format "xml" for ACCESS_FORMAT/,
    'alice',
    { ACCESS_FORMAT: 'xml' },
  ],
  [
    'search with neither --kind nor --roles',
    () => ['request', 'search'],
    2,
    /^error: one of --kind and --roles is required/,
  ],
  [
    'search --kind and --roles',
    () => ['request', 'search', '--kind', 'node', '--roles'],
    2,
    /^error: only one of --kind and --roles may be specified/,
  ],
  [
    'search --kind printer',
    () => ['request', 'search', '--kind', 'printer'],
    2,
    /^error: option '--kind <kind>' argument 'printer' is invalid/,
  ],
  [
    'search --kind kube_resource without --kube-kind',
    () => ['request', 'search', '--kind', 'kube_resource'],
    2,
    /^error: --kube-kind is required/,
  ],
  [
    'search --kube-kind with --kind node',
    () => ['request', 'search', '--kind', 'node', '--kube-kind', 'pods'],
    2,
    /^error: --kube-kind applies only to --kind kube_resource/,
  ],
  [
    'watch --state nope',
    () => ['request', 'watch', '--state', 'nope'],
    2,
    /^error: unknown request state "nope"/,
  ],
  ['an unknown command', () => ['request', 'frobnicate'], 2, /^error: unknown command 'frobnicate'/],
  ['completion tcsh', () => ['completion', 'tcsh'], 2, /^error: command-argument value 'tcsh' is invalid/],
  [
    '--cert without --key and --ca',
    () => ['request', 'ls', '--cert', '/c.crt'],
    2,
    /^error: --cert, --key and --ca go together: missing --key, --ca$/,
  ],

  // Credentials.
  [
    '-i /dev/zero: refused without reading, one clear line',
    () => ['request', 'ls', '-i', '/dev/zero'],
    7,
    /^error: cannot read identity file "\/dev\/zero": is a character device, not a regular file$/,
  ],
  [
    '-i a missing file',
    () => ['request', 'ls', '-i', '/nonexistent/x.pem'],
    7,
    /^error: cannot read identity file "\/nonexistent\/x.pem": no such file/,
  ],
  [
    '-i a directory',
    () => ['request', 'ls', '-i', '/'],
    7,
    /^error: cannot read identity file "\/": is a directory/,
  ],

  // Refusals by the server: the documented code, nothing changed.
  [
    'rm without the delete rule, of a request the caller cannot see',
    () => ['request', 'rm', PENDING],
    7,
    /^error: access denied to perform action "delete" on "access_request"/,
    'dave',
  ],
  [
    'rm without the delete rule, of an ID that does not exist',
    () => ['request', 'rm', MISSING],
    7,
    /^error: access denied to perform action "delete" on "access_request"/,
    'dave',
  ],
  [
    'rm --force without the delete rule',
    () => ['request', 'rm', '--force', PENDING],
    7,
    /^error: access denied to perform action "delete"/,
    'bob',
  ],
  [
    'approve without the update rule',
    () => ['request', 'approve', PENDING],
    7,
    /^error: .*access denied/,
    'alice',
  ],
  [
    'create for a role that may not be requested',
    () => ['request', 'create', '--roles', 'admin', '--nowait'],
    2,
    /^error: user "alice" can not request role "admin"$/,
  ],
  [
    'approve narrowing to a role not requested',
    () => ['request', 'approve', PENDING, '--roles', 'nope'],
    2,
    /^error: .*: role "nope" not in original request/,
    'admin',
  ],
];

describe('bad input: exit code, one error line, nothing changed', () => {
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    before = await snapshot();
    expect(before.requests).toHaveLength(1);
  });

  test('the table is big enough', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(80);
  });

  test.each(CASES.map((c) => [c[0], c] as const))(
    '%s',
    async (_label, [, argv, code, firstLine, user = 'alice', extraEnv]) => {
      const r = await runCli(argv(), { env: { ...envs[user], ...extraEnv } });
      expect({ code: r.code, first: r.stderr.split('\n')[0] }).toEqual({
        code,
        first: expect.stringMatching(firstLine),
      });
      expect(r.stderr).not.toContain('\u001b');
      expect(r.stderr).not.toMatch(/^\s+at /m);
      const after = await snapshot();
      expect(after.requests).toEqual(before.requests);
      expect(after.identity.equals(before.identity)).toBe(true);
    },
  );
});

test('the cases address a real request', async () => {
  const r = await runCli(['request', 'show', PENDING, '-f', 'json'], { env: envs.alice });
  expect(r.code).toBe(0);
  expect((JSON.parse(r.stdout) as AccessRequest).state).toBe('PENDING');
});
