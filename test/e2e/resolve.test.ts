import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AccessRequest } from '../../src/model/request.js';
import type { ActionResult, RmResult } from '../../src/model/schema.js';
import {
  access,
  accessJson,
  createPendingAs,
  expectSchema,
  runAccess,
  startTestServer,
  type TestServer,
} from '../helpers/e2e.js';

// Commands run in-process (access, accessJson); review, deny, rm and approve each run once
// as the spawned bundle (runAccess), so its exit codes are covered too.
let server: TestServer;
let alice: Record<string, string>;
let bob: Record<string, string>;
let carol: Record<string, string>;
let admin: Record<string, string>;
let dave: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  alice = server.env('alice');
  bob = server.env('bob');
  carol = server.env('carol');
  admin = server.env('admin');
  dave = server.env('dave');
});

afterAll(async () => {
  await server?.close();
});

const createPending = (roles?: string, reason?: string) => createPendingAs(alice, roles, reason);

describe('review', () => {
  test('a reviewer approves: tctl message on stderr; json is the request', async () => {
    const req = await createPending();
    const r = await runAccess(
      ['request', 'review', req.id, '--approve', '--reason', 'ok', '--format', 'json'],
      bob,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('Successfully submitted review.  Request state: APPROVED\n');
    const after = JSON.parse(r.stdout) as AccessRequest;
    expectSchema('request', after);
    expect(after.state).toBe('APPROVED');
    expect(after.reviews).toMatchObject([{ author: 'bob', state: 'APPROVED', reason: 'ok' }]);
  });

  test('threshold progress shows in show after a first approval', async () => {
    const req = await createPending('auditor', 'needs two');
    const first = await access(['request', 'review', req.id, '--approve'], bob);
    expect(first.stderr).toBe('Successfully submitted review.  Request state: PENDING\n');
    const shown = await access(['request', 'show', req.id], alice);
    expect(shown.stdout).toContain('State:           PENDING (1 of 2 approvals)\n');
    expect(shown.stdout).toMatch(/Reviews:\n {2}bob: APPROVED, at /);
    const second = await access(['request', 'review', req.id, '--deny'], carol);
    expect(second.stderr).toBe('Successfully submitted review.  Request state: DENIED\n');
  });

  test('a reviewer cannot review their own request: exit 7', async () => {
    const req = await createPending();
    const r = await access(['request', 'review', req.id, '--approve'], alice);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^error: .+\n$/);
  });

  test('a user without review rights is refused: exit 7', async () => {
    const req = await createPending();
    const r = await access(['request', 'review', req.id, '--deny'], dave);
    expect(r.code).toBe(7);
  });

  test('reviewing an unknown request exits 6', async () => {
    const r = await access(['request', 'review', '00000000-0000-0000-0000-000000000001', '--approve'], bob);
    expect(r.code).toBe(6);
  });
});

describe('approve, deny, rm', () => {
  test('approve several IDs: text lines, and every ID reported', async () => {
    const a = await createPending();
    const b = await createPending();
    const r = await access(
      ['request', 'approve', a.id, `${b.id}`, '--reason', 'batch', '--annotations', 'ticket=1,ticket=2'],
      admin,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`approved ${a.id}\napproved ${b.id}\n`);
    const shown = await accessJson<AccessRequest>(['request', 'show', a.id], admin);
    expect(shown).toMatchObject({
      state: 'APPROVED',
      resolve_reason: 'batch',
      annotations: { ticket: ['1', '2'] },
    });
  });

  test('deny with one unknown ID: ActionResult array, exit code of the first failure', async () => {
    const a = await createPending();
    const missing = '00000000-0000-0000-0000-000000000002';
    const r = await runAccess(
      ['request', 'deny', a.id, missing, '--reason', 'no', '--format', 'json'],
      admin,
    );
    expect(r.code).toBe(6);
    const results = JSON.parse(r.stdout) as ActionResult[];
    expectSchema('action-results', results);
    expect(results[0]).toEqual({ id: a.id, ok: true, state: 'DENIED', error: null });
    expect(results[1]).toMatchObject({ id: missing, ok: false, state: null });
    expect(r.stderr).toMatch(new RegExp(`^error: ${missing}: .+\n$`));
  });

  test('approve --roles narrows the granted roles; --delegator is accepted', async () => {
    const both = await createPending('dba,auditor', 'both');
    expect(both.roles.sort()).toEqual(['auditor', 'dba']);
    const r = await access(
      ['request', 'approve', both.id, '--roles', 'dba', '--delegator', 'pagerduty'],
      admin,
    );
    expect(r.code).toBe(0);
    const after = await accessJson<AccessRequest>(['request', 'show', both.id], admin);
    expect(after).toMatchObject({ state: 'APPROVED', roles: ['dba'] });
  });

  test('approve or deny without the update rule: exit 7, and a reviewer is pointed at review', async () => {
    const a = await createPending();
    const r = await access(['request', 'approve', a.id], bob);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(new RegExp(`^error: ${a.id}: `));
    expect(r.stderr).toContain(
      `hint: approve needs the access_request update rule; as a reviewer, submit a review: access request review ${a.id} --approve\n`,
    );
    const deny = await access(['request', 'deny', a.id], bob);
    expect(deny.stderr).toContain(`access request review ${a.id} --deny\n`);
    // A refusal of another kind (a request that does not exist) gets no such hint.
    const missing = await access(['request', 'approve', '00000000-0000-0000-0000-000000000009'], admin);
    expect(missing.stderr).not.toContain('as a reviewer');
  });

  test('rm refuses an approved request without --force and deletes nothing', async () => {
    const a = await createPending();
    const b = await createPending();
    await access(['request', 'approve', a.id], admin);
    const refused = await runAccess(['request', 'rm', a.id, b.id], admin);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('This access request has already been approved');
    expect(refused.stderr).toContain(`> access request rm --force ${a.id}`);
    // The lock advice names our command, not tctl's.
    expect(refused.stderr).toContain(`> access request lock ${a.id}\n`);
    expect(refused.stderr).not.toContain('tctl lock');
    const still = await accessJson<AccessRequest[]>(['request', 'show', a.id, b.id], admin);
    expect(still).toHaveLength(2);

    const forced = await access(['request', 'rm', a.id, b.id, '--force', '--format', 'json'], admin);
    expect(forced.code).toBe(0);
    const result = JSON.parse(forced.stdout) as RmResult;
    expectSchema('rm-result', result);
    expect(result).toEqual({ deleted: [a.id, b.id], locked: [] });
    expect((await access(['request', 'show', a.id], admin)).code).toBe(6);
  });

  test('rm text output and unknown ID', async () => {
    const a = await createPending();
    const r = await access(['request', 'rm', a.id], admin);
    expect(r).toMatchObject({ code: 0, stdout: 'Access request deleted successfully.\n' });
    expect((await access(['request', 'rm', a.id], admin)).code).toBe(6);
  });
});

describe('bad input changes nothing', () => {
  test.each([
    [['--resource', '/local/nodes'], /^error: invalid resource ID "\/local\/nodes"/],
    [['--roles', 'dba', '--request-ttl', '10y'], /^error: invalid duration "10y" for --request-ttl/],
    [
      ['--roles', 'dba', '--assume-start-time', 'next week'],
      /^error: invalid time "next week" for --assume-start-time/,
    ],
  ])('create %j exits 2 and creates nothing', async (flags, message) => {
    const before = await accessJson<AccessRequest[]>(['request', 'ls', '--mine'], alice);
    const r = await access(['request', 'create', ...flags, '--nowait'], alice);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(message);
    const after = await accessJson<AccessRequest[]>(['request', 'ls', '--mine'], alice);
    expect(after.map((x) => x.id)).toEqual(before.map((x) => x.id));
  });

  test('approve with a bad annotation exits 2 and leaves the request pending', async () => {
    const req = await createPending();
    const r = await runAccess(['request', 'approve', req.id, '--annotations', 'novalue'], admin);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: invalid --annotations "novalue": expected key=value\n');
    const after = await accessJson<AccessRequest>(['request', 'show', req.id], admin);
    expect(after.state).toBe('PENDING');
  });

  test('a role the user may not request: hint to list requestable roles', async () => {
    const r = await access(['request', 'create', '--roles', 'admin', '--nowait'], alice);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /^error: .*admin.*\nhint: run `access request search --roles` to list requestable roles\n$/,
    );
  });
});
