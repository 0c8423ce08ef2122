import { describe, expect, test } from 'vitest';
import { helpTopics } from '../../../src/cli/help-topics.js';
import { schemaDoc } from '../../../src/model/schema.js';
import { runCli } from '../../helpers/run-cli.js';

describe('access help', () => {
  test('lists exactly the four topics', () => {
    expect(helpTopics().map((t) => t.name)).toEqual(['environment', 'exit-codes', 'formats', 'resource-ids']);
  });

  test('environment names every variable and the precedence', async () => {
    const r = await runCli(['help', 'environment']);
    expect(r.code).toBe(0);
    for (const v of [
      'ACCESS_AUTH_SERVER, TELEPORT_AUTH_SERVER',
      'ACCESS_PROXY, TELEPORT_PROXY',
      'ACCESS_IDENTITY, TELEPORT_IDENTITY_FILE',
      'ACCESS_CERT, ACCESS_KEY, ACCESS_CA',
      'TELEPORT_HOME',
      'ACCESS_FORMAT',
      'ACCESS_RPC_TIMEOUT',
      'ACCESS_DEBUG=1',
      'NO_COLOR',
      'FORCE_COLOR',
    ]) {
      expect(r.stdout).toContain(v);
    }
    expect(r.stdout).toContain('access server start');
  });

  test('exit-codes is the table of spec/cli.md, plus 9 for an approval these credentials cannot assume', async () => {
    const r = await runCli(['help', 'exit-codes']);
    expect(r.code).toBe(0);
    const codes = [...r.stdout.matchAll(/^\s+(\d+) {2}/gm)].map((m) => Number(m[1]));
    expect(codes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 130, 143]);
    expect(r.stdout).toMatch(
      /^\s+9 {2}create, wait and exec: the request was approved \(or, for exec, would be\), but these credentials cannot assume it/m,
    );
    expect(r.stdout).toMatch(/^\s+3 {2}the request was denied$/m);
    expect(r.stdout).toMatch(/^\s+4 {2}--timeout reached while the request is still pending$/m);
  });

  test('formats documents every JSON shape via schemaDoc', async () => {
    const r = await runCli(['help', 'formats']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(schemaDoc().trim().split('\n')[0]);
    expect(r.stdout).toContain('resolve_reason');
    expect(r.stdout).toContain('NDJSON');
  });

  test('resource-ids shows the three forms', async () => {
    const r = await runCli(['help', 'resource-ids']);
    expect(r.stdout).toContain('/<cluster>/<kind>/<name>');
    expect(r.stdout).toContain('/<cluster>/kube:ns:<plural>[.<group>]/<kube-cluster>/<namespace>/<name>');
    expect(r.stdout).toContain('/<cluster>/kube:cw:<plural>[.<group>]/<kube-cluster>/<name>');
  });

  test('help with a command path shows that command', async () => {
    const r = await runCli(['help', 'request', 'create']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: access request create');
  });

  test('help alone shows the root help on stdout', async () => {
    const r = await runCli(['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: access [options] [command]');
  });

  test('an unknown topic is a usage error listing the topics', async () => {
    const r = await runCli(['help', 'colours']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: no help topic or command "colours"\nhint: topics: environment, exit-codes, formats, resource-ids; commands: request, exec, lock, rule, webhook, sign-helper, server, status, mcp, completion, help\n',
    );
  });
});

describe('access completion', () => {
  test.each([
    ['bash', 'complete -F _access access'],
    ['zsh', '#compdef access'],
    ['fish', 'complete -c access'],
  ])('%s prints a script generated from the tree', async (shell, marker) => {
    const r = await runCli(['completion', shell]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(marker);
    expect(r.stdout).toContain('approve');
    expect(r.stdout).toContain('--nowait');
  });
});
