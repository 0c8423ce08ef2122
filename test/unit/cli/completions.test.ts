import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, describe as group, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const script = (name: string) => join(root, 'completions', name);
const KINDS = [
  'node',
  'db',
  'app',
  'kube_cluster',
  'windows_desktop',
  'kube_resource',
  'user_group',
  'saml_idp_service_provider',
  'aws_ic_account',
  'aws_ic_account_assignment',
];

function has(shell: string): boolean {
  return spawnSync(shell, ['-c', 'exit 0']).status === 0;
}

/**
 * A directory holding a stand-in `access` whose `request ls --format json` prints two requests,
 * `--reviewable` the first and `--mine` the second.
 */
const fakeBin = mkdtempSync(join(tmpdir(), 'access-completion-'));
writeFileSync(
  join(fakeBin, 'access'),
  `#!/bin/sh
case "$*" in
  "request ls --format json") echo '[{"id": "0193aaaa-1", "user": "alice"}, {"id": "0193bbbb-2", "user": "bob"}]' ;;
  "request ls --reviewable --format json") echo '[{"id": "0193aaaa-1", "user": "alice"}]' ;;
  "request ls --mine --format json") echo '[{"id": "0193bbbb-2", "user": "bob"}]' ;;
  *) exit 1 ;;
esac
`,
);
chmodSync(join(fakeBin, 'access'), 0o755);
afterAll(() => rmSync(fakeBin, { recursive: true, force: true }));

/** `access` on PATH is the stand-in only while `withRequests` runs; otherwise there is none. */
let withAccess = false;
function run(shell: string, args: string[]): string {
  const PATH = withAccess ? `${fakeBin}:/usr/bin:/bin` : '/usr/bin:/bin';
  return execFileSync(shell, args, { encoding: 'utf8', env: { PATH, HOME: '/nonexistent' } });
}

function withRequests<T>(fn: () => T): T {
  withAccess = true;
  try {
    return fn();
  } finally {
    withAccess = false;
  }
}

function bash(words: string[]): string[] {
  const snippet = `source ${JSON.stringify(script('access.bash'))}
COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}
_access; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return run('bash', ['-c', snippet]).split('\n').filter(Boolean);
}

function zsh(words: string[]): string[] {
  // compadd and _describe are completion-system builtins; stand-ins print what they are given.
  const snippet = `compadd() { local a; if [[ $1 == -a ]]; then print -l -- \${(P)2}; return; fi
  while [[ $# -gt 0 && $1 != -- ]]; do shift; done; shift; print -l -- "$@"; }
_describe() { local -a arr; arr=("\${(@P)2}"); print -l -- "\${arr[@]%%:*}"; }
_files() { print -- FILES; }
compdef() { :; }
source ${JSON.stringify(script('_access'))}
words=(${words.map((w) => JSON.stringify(w)).join(' ')}); CURRENT=${words.length}; PREFIX=${JSON.stringify(words.at(-1))}
_access`;
  return run('zsh', ['-f', '-c', snippet])
    .split('\n')
    .filter((w) => w !== '' && w.startsWith(words.at(-1)!));
}

function fish(line: string): string[] {
  const out = run('fish', [
    '--no-config',
    '-c',
    `source ${JSON.stringify(script('access.fish'))}; complete -C ${JSON.stringify(line)}`,
  ]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0]);
}

group('generated completion scripts', () => {
  it('are what `access completion` prints', async () => {
    const { runCli } = await import('../../helpers/run-cli.js');
    for (const [shell, file] of [
      ['bash', 'access.bash'],
      ['zsh', '_access'],
      ['fish', 'access.fish'],
    ]) {
      const res = await runCli(['completion', shell]);
      expect(res.code).toBe(0);
      expect(res.stdout).toBe(readFileSync(script(file), 'utf8'));
    }
  });
});

group.runIf(has('bash'))('bash', () => {
  it('completes top-level commands and request subcommands', () => {
    expect(bash(['access', ''])).toEqual(
      expect.arrayContaining(['request', 'server', 'sign-helper', 'completion']),
    );
    expect(bash(['access', 'request', 's'])).toEqual(['show', 'search']);
  });
  it('completes --kind and --format values, skipping option values when finding the command', () => {
    expect(bash(['access', 'request', 'search', '--kind', ''])).toEqual(KINDS);
    expect(bash(['access', '--format', 'json', 'request', 'search', '--kind', 'k'])).toEqual([
      'kube_cluster',
      'kube_resource',
    ]);
    expect(bash(['access', 'request', 'ls', '--format', 'y'])).toEqual(['yaml']);
  });
  it('completes flags of the current command', () => {
    expect(bash(['access', 'request', 'create', '--no'])).toEqual(
      expect.arrayContaining(['--nowait', '--no-assume']),
    );
  });
  it('completes request IDs from `access request ls`, and nothing when it fails', () => {
    expect(withRequests(() => bash(['access', 'request', 'show', '0193']))).toEqual([
      '0193aaaa-1',
      '0193bbbb-2',
    ]);
    expect(withRequests(() => bash(['access', 'request', 'approve', '0193b']))).toEqual(['0193bbbb-2']);
    expect(bash(['access', 'request', 'show', ''])).toEqual([]);
  });
  it('offers review the reviewable IDs, and drop and wait the caller’s own', () => {
    expect(withRequests(() => bash(['access', 'request', 'review', '0193']))).toEqual(['0193aaaa-1']);
    expect(withRequests(() => bash(['access', 'request', 'drop', '0193']))).toEqual(['0193bbbb-2']);
    expect(withRequests(() => bash(['access', 'request', 'wait', '']))).toEqual(['0193bbbb-2']);
  });
});

group.runIf(has('zsh'))('zsh', () => {
  it('completes commands, subcommands and --kind values', () => {
    expect(zsh(['access', ''])).toEqual(expect.arrayContaining(['request', 'server', 'sign-helper']));
    expect(zsh(['access', 'request', 'w']).sort()).toEqual(['wait', 'watch']);
    expect(zsh(['access', 'request', 'search', '--kind', ''])).toEqual(KINDS);
  });
  it('completes request IDs', () => {
    expect(withRequests(() => zsh(['access', 'request', 'rm', '0193']))).toEqual([
      '0193aaaa-1',
      '0193bbbb-2',
    ]);
    expect(withRequests(() => zsh(['access', 'request', 'review', '0193']))).toEqual(['0193aaaa-1']);
  });
});

group.runIf(has('fish'))('fish', () => {
  it('completes commands, subcommands and --kind values', () => {
    expect(fish('access ')).toEqual(expect.arrayContaining(['request', 'server', 'sign-helper']));
    expect(fish('access request w').sort()).toEqual(['wait', 'watch']);
    expect(fish('access request search --kind ').sort()).toEqual([...KINDS].sort());
  });
  it('completes request IDs', () => {
    expect(withRequests(() => fish('access request show 0193'))).toEqual(['0193aaaa-1', '0193bbbb-2']);
    expect(withRequests(() => fish('access request wait 0193'))).toEqual(['0193bbbb-2']);
  });
});
