/**
 * A reviewer's `ls` (issue 15): how close each request is and who reviewed it, search
 * keywords, the REVIEWED scope, expired access hidden unless --all, and on a TTY a compact
 * table that fits the terminal by wrapping the reason, never the ID.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/e2e.js';
import { runCli } from '../helpers/run-cli.js';

let server: TestServer;
let pendingId: string;
let searchedId: string;
const LONG_REASON =
  `incident 4711: ${'the orders database needs its replication slots rebuilt '.repeat(3)}`.trim();

const cli = (user: string, argv: string[], extra: Parameters<typeof runCli>[1] = {}) =>
  runCli(argv, { ...extra, env: { ...server.env(user), ...extra.env } });

async function create(roles: string, reason: string): Promise<string> {
  const r = await cli('alice', [
    'request',
    'create',
    '--roles',
    roles,
    '--reason',
    reason,
    '--nowait',
    '--format',
    'json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

beforeAll(async () => {
  server = await startTestServer();
  // auditor needs two approvals (audit-requester's threshold): one review leaves it at 1/2.
  pendingId = await create('auditor', LONG_REASON);
  expect((await cli('bob', ['request', 'review', pendingId, '--approve'])).code).toBe(0);
  searchedId = await create('dba', 'ticket 9931 for the search test');
});

afterAll(async () => {
  await server?.close();
});

describe('request ls for reviewers', () => {
  test('text: an Approvals column ("1/2") and who reviewed, one row a line off a TTY', async () => {
    const r = await cli('carol', ['request', 'ls', '--reviewable']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/\bState\s+Approvals\s+Reviewed By\s+Reason$/);
    const row = lines.find((l) => l.startsWith(pendingId));
    expect(row).toMatch(/\bPENDING\s+1\/2\s+bob\s+"incident 4711/);
    expect(lines).toHaveLength(3);
  });

  test('--search passes keywords to the server, which searches IDs, not reasons; --reviewed is the REVIEWED scope', async () => {
    const found = await cli('admin', [
      'request',
      'ls',
      '--search',
      searchedId.slice(-12),
      '--format',
      'json',
    ]);
    expect((JSON.parse(found.stdout) as { id: string }[]).map((x) => x.id)).toEqual([searchedId]);
    const byReason = await cli('admin', ['request', 'ls', '--search', '9931', '--format', 'json']);
    expect(JSON.parse(byReason.stdout)).toEqual([]);
    const reviewed = await cli('bob', ['request', 'ls', '--reviewed', '--format', 'json']);
    expect((JSON.parse(reviewed.stdout) as { id: string }[]).map((x) => x.id)).toEqual([pendingId]);
    const bad = await cli('bob', ['request', 'ls', '--reviewed', '--mine']);
    expect(bad.code).toBe(2);
  });

  test('requests whose access has expired are hidden unless --all', async () => {
    // Past the requests' access expiry (at most 14 days), within the identity's 30 days.
    const later = () => new Date(Date.now() + 20 * 86_400_000);
    const hidden = await cli('admin', ['request', 'ls', '--format', 'json'], { now: later });
    expect(JSON.parse(hidden.stdout)).toEqual([]);
    const all = await cli('admin', ['request', 'ls', '--all', '--format', 'json'], { now: later });
    expect((JSON.parse(all.stdout) as unknown[]).length).toBe(2);
  });

  for (const columns of [80, 200]) {
    test(`TTY at ${columns} columns: compact, fits by leaving out columns by priority, IDs whole`, async () => {
      const r = await cli('admin', ['request', 'ls'], { isTTY: true, columns });
      expect(r.code, r.stderr).toBe(0);
      // States are coloured on a TTY; widths are measured without the colour codes.
      expect(r.stdout).toContain('\u001b[33mPENDING\u001b[39m');
      const lines = r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.replace(/\u001b\[[0-9;]*m/g, ''));
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(columns);
      // Compact: no box drawing, no rule between rows.
      expect(r.stdout).not.toMatch(/[│├┼┤─┌┐└┘]/);
      expect(lines[0]).toMatch(/^ID\s+User\s+Roles\s+/);
      for (const id of [pendingId, searchedId]) expect(r.stdout).toContain(id);
      const rowsOf = (id: string) => lines.filter((l) => l.includes(id)).length;
      expect(rowsOf(pendingId)).toBe(1);
      if (columns === 200) {
        // Wide enough for every column.
        expect(lines[0]).toMatch(/Approvals\s+Reviewed By\s+Reason/);
      } else {
        // Narrow: the least important columns give way (issue 23's priority: ID, state,
        // user, roles, approvals, created, reason); the state and approvals stay.
        expect(lines[0]).toMatch(/State\s+Approvals$/);
        expect(lines[0]).not.toContain('Created At');
      }
    });
  }
});
