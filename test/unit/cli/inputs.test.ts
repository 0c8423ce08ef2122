import { describe, expect, test } from 'vitest';
import { runCli } from '../../helpers/run-cli.js';

/**
 * Bad input is rejected while flags are parsed, before credentials are read or any RPC is
 * made: ACCESS_IDENTITY points at a file that does not exist, so reaching the network
 * would fail differently (exit 7) instead of exit 2 naming the bad part.
 */
const ID1 = '0193c1e2-7b3a-7c4d-9e5f-0a1b2c3d4e5f';
const env = { ACCESS_IDENTITY: '/nonexistent/alice.pem', ACCESS_AUTH_SERVER: '127.0.0.1:1' };

async function rejects(argv: string[], message: RegExp) {
  const r = await runCli(argv, { env });
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n')[0]).toMatch(message);
  expect(r.stderr).not.toContain('nonexistent');
  expect(r.code).toBe(2);
}

describe('invalid input exits 2 before anything is contacted', () => {
  test.each([
    [['request', 'create', '--resource', '/local/node'], /^error: invalid resource ID "\/local\/node": /],
    [['request', 'create', '--resource', 'local/node/x'], /^error: invalid resource ID "local\/node\/x"/],
    [
      ['request', 'create', '--roles', 'dba', '--resource', '/local/kube:ns:pods/minikube/nginx'],
      /^error: invalid resource ID "\/local\/kube:ns:pods\/minikube\/nginx"/,
    ],
    [
      ['request', 'create', '--roles', 'dba', '--request-ttl', '5x'],
      /^error: invalid duration "5x" for --request-ttl/,
    ],
    [
      ['request', 'create', '--roles', 'dba', '--session-ttl', '-1h'],
      /^error: invalid duration "-1h" for --session-ttl/,
    ],
    [
      ['request', 'create', '--roles', 'dba', '--request-ttl', '0'],
      /^error: request TTL value must be greater than zero/,
    ],
    [
      ['request', 'create', '--roles', 'dba', '--timeout', 'soon'],
      /^error: invalid duration "soon" for --timeout/,
    ],
    [
      ['request', 'create', '--roles', 'dba', '--assume-start-time', 'tomorrow'],
      /^error: invalid time "tomorrow" for --assume-start-time/,
    ],
    [
      ['request', 'create', '--roles', 'dba', '--assume-start-time', '2026-02-30T10:00:00Z'],
      /^error: invalid time "2026-02-30T10:00:00Z" for --assume-start-time: day 30 is out of range/,
    ],
    [['request', 'create'], /^error: at least one role or resource must be specified/],
    [
      ['request', 'create', '--roles', 'dba', '--wait', '--nowait'],
      /^error: --wait and --nowait cannot be combined/,
    ],
    [
      ['request', 'create', '--roles', 'dba', '--nowait', '--timeout', '1m'],
      /^error: --timeout applies only when waiting/,
    ],
    [
      ['request', 'approve', ID1, '--annotations', 'ticket'],
      /^error: invalid --annotations "ticket": expected key=value/,
    ],
    [['request', 'deny', ID1, '--annotations', '=x'], /^error: invalid --annotations "=x": empty key/],
    [
      ['request', 'approve', ID1, '--assume-start-time', '10:00'],
      /^error: invalid time "10:00" for --assume-start-time/,
    ],
    [['request', 'review', ID1], /^error: must supply exactly one of '--approve' or '--deny'/],
    [
      ['request', 'review', ID1, '--approve', '--deny'],
      /^error: must supply exactly one of '--approve' or '--deny'/,
    ],
    [['request', 'wait', ID1, '--timeout', '1x'], /^error: invalid duration "1x" for --timeout/],
    [['request', 'ls', '--state', 'WAITING'], /^error: unknown request state "WAITING"/],
    [['request', 'ls', '--limit', '0'], /^error: invalid --limit "0"/],
    [['request', 'ls', '--sort', 'size'], /^error: option '--sort <field>' argument 'size' is invalid/],
    [['request', 'ls', '--mine', '--reviewable'], /^error: --mine cannot be combined with --reviewable/],
    [['request', 'search'], /^error: one of --kind and --roles is required/],
    [
      ['request', 'search', '--kind', 'node', '--roles'],
      /^error: only one of --kind and --roles may be specified/,
    ],
    [
      ['request', 'search', '--kind', 'printer'],
      /^error: option '--kind <kind>' argument 'printer' is invalid/,
    ],
    [['request', 'search', '--kind', 'kube_resource'], /^error: --kube-kind is required/],
    [
      ['request', 'search', '--kind', 'kube_resource', '--kube-kind', 'deployments', '--kube-cluster', 'k'],
      /^error: --kube-api-group is required for resource kind "deployments"/,
    ],
    [
      ['request', 'search', '--kind', 'node', '--kube-kind', 'pods'],
      /^error: --kube-kind applies only to --kind kube_resource/,
    ],
    [
      ['request', 'search', '--kind', 'node', '--labels', 'env'],
      /^error: invalid --labels "env": expected key=value/,
    ],
    [['request', 'watch', '--state', 'nope'], /^error: unknown request state "nope"/],
    [
      ['request', 'ls', '--format', 'xml'],
      /^error: option '-f, --format <format>' argument 'xml' is invalid/,
    ],
    [['request', 'ls', '--rpc-timeout', 'fast'], /^error: invalid duration "fast" for --rpc-timeout/],
    [['completion', 'tcsh'], /^error: command-argument value 'tcsh' is invalid/],
  ])('%j', async (argv, message) => {
    await rejects(argv, message);
  });

  test('ACCESS_FORMAT is validated too', async () => {
    const r = await runCli(['request', 'ls'], { env: { ...env, ACCESS_FORMAT: 'xml' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: unsupported format "xml" for ACCESS_FORMAT: use text, json or yaml\n');
  });

  test('--cert without --key and --ca names what is missing', async () => {
    const r = await runCli(['request', 'ls', '--cert', '/c.crt'], {
      env: { ACCESS_AUTH_SERVER: '127.0.0.1:1' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --cert, --key and --ca go together: missing --key, --ca\n');
  });
});
