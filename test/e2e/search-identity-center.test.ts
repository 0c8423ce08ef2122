import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AccessRequest } from '../../src/model/request.js';
import type { SearchResult } from '../../src/model/search.js';
import type { RunningServer } from '../../src/server/index.js';
import { expectSchema, startTestServer, type TestServer } from '../helpers/e2e.js';
import { runCli } from '../helpers/run-cli.js';

const SEED = `
kind: role
version: v7
metadata: { name: ic-requester }
spec:
  allow:
    request:
      search_as_roles: [ic-access]
---
kind: role
version: v7
metadata: { name: ic-access }
spec:
  allow:
    account_assignments:
      - { account: '111111111111', permission_set: 'arn:aws:sso:::permissionSet/*/ps-readonly' }
      - { account: '333333333333', permission_set: '*' }
  deny:
    account_assignments:
      - { account: '3333*', permission_set: '*' }
---
kind: role
version: v7
metadata: { name: labels-requester }
spec:
  allow:
    request:
      search_as_roles: [labels-only]
---
kind: role
version: v7
metadata: { name: labels-only }
spec:
  allow:
    app_labels: { '*': '*' }
---
kind: role
version: v7
metadata: { name: no-ic-accounts }
spec:
  deny:
    rules:
      - { resources: [aws_ic_account], verbs: [list] }
---
kind: role
version: v7
metadata: { name: no-identity-center }
spec:
  deny:
    rules:
      - { resources: [aws_identity_center], verbs: [read] }
---
kind: user
version: v2
metadata: { name: alice }
spec: { roles: [ic-requester] }
---
kind: user
version: v2
metadata: { name: lena }
spec: { roles: [labels-requester] }
---
kind: user
version: v2
metadata: { name: nora }
spec: { roles: [ic-requester, no-ic-accounts] }
---
kind: user
version: v2
metadata: { name: umar }
spec: { roles: [ic-requester, no-identity-center] }
${[
  ['acct-a', '111111111111', 'Staging'],
  ['acct-b', '222222222222', 'Production'],
  ['acct-c', '333333333333', 'Sandbox'],
]
  .map(
    ([name, id, accountName]) => `---
kind: aws_ic_account
version: v1
metadata: { name: ${name}, labels: { env: any } }
spec: { id: '${id}', name: ${accountName}, start_url: 'https://d-1.awsapps.com/start' }`,
  )
  .join('\n')}
${[
  ['111111111111', 'Staging', 'ReadOnly', 'ps-readonly'],
  ['111111111111', 'Staging', 'AdminAccess', 'ps-admin'],
  ['222222222222', 'Production', 'ReadOnly', 'ps-readonly'],
  ['333333333333', 'Sandbox', 'ReadOnly', 'ps-readonly'],
]
  .map(
    ([id, accountName, ps, psId]) => `---
kind: aws_ic_account_assignment
version: v1
metadata: { name: ${id}--${ps}, labels: { env: any } }
spec:
  display: '"${ps}" on "${accountName}"'
  account_id: '${id}'
  account_name: ${accountName}
  permission_set: { arn: 'arn:aws:sso:::permissionSet/ssoins-1/${psId}', name: ${ps} }`,
  )
  .join('\n')}
`;

let ts: TestServer;
let dir: string;
let server: RunningServer;

const cli = (user: string, argv: string[]) =>
  runCli(argv, {
    env: { HOME: dir, ACCESS_AUTH_SERVER: server.addr, ACCESS_IDENTITY: server.identityPath(user) },
  });

async function json<T>(user: string, argv: string[]): Promise<T> {
  const r = await cli(user, [...argv, '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  ts = await startTestServer({ seed: SEED });
  ({ dir, server } = ts);
});

afterAll(async () => {
  await ts?.close();
});

describe('search --kind aws_ic_account / aws_ic_account_assignment', () => {
  test('accounts: matched by account ID alone; a deny block wins; the AWS account ID is shown', async () => {
    const found = await json<SearchResult[]>('alice', ['request', 'search', '--kind', 'aws_ic_account']);
    expectSchema('search-results', found);
    expect(found).toEqual([
      {
        kind: 'aws_ic_account',
        name: 'acct-a',
        hostname: '111111111111',
        namespace: '',
        labels: { env: 'any' },
        resource_id: `/${server.clusterName}/aws_ic_account/acct-a`,
      },
    ]);
    const text = await cli('alice', ['request', 'search', '--kind', 'aws_ic_account']);
    expect(text.stdout).toMatch(/^Name\s+Account ID\s+Labels\s+Resource ID\n/);
    expect(text.stdout).toMatch(/acct-a\s+111111111111\s+env=any\s+\/\S+\/aws_ic_account\/acct-a\n/);
  });

  test('assignments: the account and the permission set ARN must both match', async () => {
    const found = await json<SearchResult[]>('alice', [
      'request',
      'search',
      '--kind',
      'aws_ic_account_assignment',
    ]);
    expectSchema('search-results', found);
    expect(found.map((r) => [r.resource_id, r.hostname])).toEqual([
      [`/${server.clusterName}/aws_ic_account_assignment/111111111111--ReadOnly`, '"ReadOnly" on "Staging"'],
    ]);
  });

  test('labels play no part: a role with app_labels * and no account_assignments finds nothing', async () => {
    for (const kind of ['aws_ic_account', 'aws_ic_account_assignment']) {
      expect(await json<SearchResult[]>('lena', ['request', 'search', '--kind', kind])).toEqual([]);
    }
  });

  test('a deny rule on the kind, or on the umbrella aws_identity_center, refuses the listing (exit 7)', async () => {
    const kind = await cli('nora', ['request', 'search', '--kind', 'aws_ic_account']);
    expect(kind.code).toBe(7);
    expect(kind.stderr).toContain('access denied to perform action "list" on "aws_ic_account"');
    // Only the denied kind: nora still lists assignments.
    expect(
      await json<SearchResult[]>('nora', ['request', 'search', '--kind', 'aws_ic_account_assignment']),
    ).toHaveLength(1);
    for (const k of ['aws_ic_account', 'aws_ic_account_assignment']) {
      const umbrella = await cli('umar', ['request', 'search', '--kind', k]);
      expect(umbrella.code).toBe(7);
      expect(umbrella.stderr).toContain('access denied to perform action "read" on "aws_identity_center"');
    }
  });
});

describe('create --resource for Identity Center resources', () => {
  test('an account and an assignment found by search are requested through ic-access', async () => {
    const ids = [
      `/${server.clusterName}/aws_ic_account/acct-a`,
      `/${server.clusterName}/aws_ic_account_assignment/111111111111--ReadOnly`,
    ];
    const req = await json<AccessRequest>('alice', [
      'request',
      'create',
      '--resource',
      ids[0],
      '--resource',
      ids[1],
      '--reason',
      'aws console',
      '--nowait',
    ]);
    expect(req.resources).toEqual(ids);
    expect(req.roles).toEqual(['ic-access']);
  });

  test('an assignment whose permission set no role names, and a denied account, are refused', async () => {
    for (const id of ['aws_ic_account_assignment/111111111111--AdminAccess', 'aws_ic_account/acct-c']) {
      const r = await cli('alice', [
        'request',
        'create',
        '--resource',
        `/${server.clusterName}/${id}`,
        '--reason',
        'x',
        '--nowait',
      ]);
      expect(r.code).toBe(7);
      expect(r.stderr).toContain(`can not request resource "/${server.clusterName}/${id}"`);
    }
    const mine = await json<AccessRequest[]>('alice', ['request', 'ls', '--mine']);
    expect(mine).toHaveLength(1);
  });
});
