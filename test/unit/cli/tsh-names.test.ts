/**
 * tsh and tctl habits (issue 23): a name that means the same is accepted, any other is
 * refused (exit 2, nothing run) with a hint giving our spelling.
 */
import { describe, expect, test } from 'vitest';
import { runCli } from '../../helpers/run-cli.js';

describe('tsh/tctl names we spell differently', () => {
  test.each([
    [
      ['request', 'ls', '--sort-index', 'state'],
      'hint: tctl’s --sort-index is --sort here (created, state or user)',
    ],
    [['request', 'ls', '--sort-order', 'ascending'], 'hint: tctl’s --sort-order is --asc here'],
    [
      ['request', 'create', '--request-roles', 'dba'],
      'hint: tsh login --request-roles is `access request create --roles ROLES` here',
    ],
    [
      ['request', 'review', 'x', '--author', 'bob'],
      'hint: tctl’s review --author is the identity you connect with here',
    ],
    [['request', 'details', 'x'], 'hint: did you mean show?'],
    [
      ['login', '--request-id', 'x'],
      'hint: tsh login --request-id/--request-roles is `access request assume ID`',
    ],
    [['ls'], 'hint: did you mean `access request ls`?'],
    [['approve', 'x'], 'hint: did you mean `access request approve`?'],
  ])('%j', async (argv, hint) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[1]).toContain(hint);
  });

  test('a name nobody uses still points at the help', async () => {
    const r = await runCli(['request', 'ls', '--zzz']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: unknown option '--zzz'\nhint: run `access request ls --help` for usage\n");
  });
});
