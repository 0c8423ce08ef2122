import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AccessRequest, Capabilities } from '../../src/model/request.js';
import type { SearchResult } from '../../src/model/search.js';
import {
  access,
  accessJson,
  createPendingAs,
  expectSchema,
  NODE_DB,
  NODE_WEB,
  runAccess,
  startTestServer,
  type TestServer,
} from '../helpers/e2e.js';
import { runCli } from '../helpers/run-cli.js';

// Commands run in-process (access, accessJson); a few run the spawned bundle (runAccess) so
// that its exit codes, lazily loaded chunks (connection, yaml) and pipes are covered too.
let server: TestServer;
let alice: Record<string, string>;
let bob: Record<string, string>;
let carol: Record<string, string>;
let admin: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  alice = server.env('alice');
  bob = server.env('bob');
  carol = server.env('carol');
  admin = server.env('admin');
});

afterAll(async () => {
  await server?.close();
});

const createPending = (roles?: string, reason?: string) => createPendingAs(alice, roles, reason);

describe('caps', () => {
  test('text: a Name/Value table like tctl', async () => {
    const r = await runAccess(['request', 'caps'], alice);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'Name                  Value',
        'Requestable Roles:    auditor,dba',
        'Suggested Reviewers:  bob',
        'Require Reason:       no',
        '',
      ].join('\n'),
    );
  });

  test('--debug logs each RPC to stderr, never key material', async () => {
    const r = await access(['request', 'caps', '--debug'], alice);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^debug: rpc GetAccessCapabilities \d+ms OK$/m);
    expect(r.stderr).not.toContain('PRIVATE KEY');
  });

  test('json: the Capabilities document', async () => {
    const caps = await accessJson<Capabilities>(['request', 'caps'], alice);
    expectSchema('capabilities', caps);
    expect(caps.requestable_roles).toEqual(['auditor', 'dba']);
    expect(caps.suggested_reviewers).toEqual(['bob']);
  });

  test('--user asks for another user (admin)', async () => {
    const caps = await accessJson<Capabilities>(['request', 'caps', '--user', 'alice'], admin);
    expect(caps.requestable_roles).toEqual(['auditor', 'dba']);
  });
});

describe('search', () => {
  test('text: nodes visible through search_as_roles, and a ready-to-run create line on stderr', async () => {
    const r = await runAccess(['request', 'search', '--kind', 'node'], alice);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Name\s+Hostname\s+Labels\s+Resource ID$/);
    expect(lines).toHaveLength(3);
    expect(r.stdout).toMatch(
      new RegExp(`${NODE_WEB}\\s+web-1\\s+env=prod,team=web\\s+/local/node/${NODE_WEB}`),
    );
    expect(r.stderr).toContain(
      `> access request create --resource /local/node/${NODE_DB} --resource /local/node/${NODE_WEB} --reason <reason>`,
    );
  });

  test('json: SearchResult array, filtered by keyword and labels', async () => {
    const all = await accessJson<SearchResult[]>(['request', 'search', '--kind', 'node'], alice);
    expectSchema('search-results', all);
    expect(all.map((r) => r.hostname).sort()).toEqual(['db-1', 'web-1']);
    const web = await accessJson<SearchResult[]>(
      ['request', 'search', '--kind', 'node', '--search', 'web'],
      alice,
    );
    expect(web).toEqual([
      {
        kind: 'node',
        name: NODE_WEB,
        hostname: 'web-1',
        namespace: '',
        labels: { env: 'prod', team: 'web' },
        resource_id: `/local/node/${NODE_WEB}`,
      },
    ]);
    const staging = await accessJson<SearchResult[]>(
      ['request', 'search', '--kind', 'node', '--labels', 'env=staging'],
      alice,
    );
    expect(staging.map((r) => r.hostname)).toEqual(['db-1']);
    const query = await accessJson<SearchResult[]>(
      ['request', 'search', '--kind', 'node', '--query', 'labels["team"] == "web"'],
      alice,
    );
    expect(query.map((r) => r.hostname)).toEqual(['web-1']);
  });

  test('kube_resource: pods in the default namespace, or in all namespaces', async () => {
    const kube = [
      'request',
      'search',
      '--kind',
      'kube_resource',
      '--kube-kind',
      'pods',
      '--kube-cluster',
      'minikube',
    ];
    const text = await access(kube, alice);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      [
        'Name   Namespace  Labels   Resource ID',
        'nginx  default    app=web  /local/kube:ns:pods/minikube/default/nginx',
        '',
      ].join('\n'),
    );
    const all = await accessJson<SearchResult[]>([...kube, '--all-kube-namespaces'], alice);
    expectSchema('search-results', all);
    expect(all.map((r) => r.resource_id).sort()).toEqual([
      '/local/kube:ns:pods/minikube/default/nginx',
      '/local/kube:ns:pods/minikube/prod/redis',
    ]);
    expect(all.find((r) => r.name === 'redis')).toMatchObject({ kind: 'kube:ns:pods', namespace: 'prod' });
  });

  test('user_group: group_labels decide which groups search_as_roles show; no Hostname column', async () => {
    const text = await access(['request', 'search', '--kind', 'user_group'], alice);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      ['Name      Labels    Resource ID', 'okta-eng  team=eng  /local/user_group/okta-eng', ''].join('\n'),
    );
    const json = await accessJson<SearchResult[]>(['request', 'search', '--kind', 'user_group'], alice);
    expectSchema('search-results', json);
    expect(json).toEqual([
      {
        kind: 'user_group',
        name: 'okta-eng',
        hostname: '',
        namespace: '',
        labels: { team: 'eng' },
        resource_id: '/local/user_group/okta-eng',
      },
    ]);
  });

  test('saml_idp_service_provider: app_labels decide visibility; the entity ID is shown', async () => {
    const text = await access(['request', 'search', '--kind', 'saml_idp_service_provider'], alice);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Name\s+Entity ID\s+Labels\s+Resource ID\n/);
    expect(text.stdout).toMatch(
      /grafana-sso\s+https:\/\/grafana\.example\.com\/saml\s+env=dev\s+\/local\/saml_idp_service_provider\/grafana-sso\n/,
    );
    expect(text.stdout).not.toContain('payroll-sso');
    const json = await accessJson<SearchResult[]>(
      ['request', 'search', '--kind', 'saml_idp_service_provider'],
      alice,
    );
    expectSchema('search-results', json);
    expect(json.map((r) => r.resource_id)).toEqual(['/local/saml_idp_service_provider/grafana-sso']);
    expect(json[0]).toMatchObject({
      kind: 'saml_idp_service_provider',
      hostname: 'https://grafana.example.com/saml',
    });
  });

  test('--roles lists requestable roles', async () => {
    const roles = await accessJson<string[]>(['request', 'search', '--roles'], alice);
    expectSchema('roles', roles);
    expect(roles).toEqual(['auditor', 'dba']);
    const r = await access(['request', 'search', '--roles'], alice);
    expect(r.stdout).toBe('Role     Description\nauditor  -\ndba      -\n');
  });
});

describe('create --nowait, ls and show', () => {
  test('create prints the ID on stderr with the resume command, and the request on stdout', async () => {
    const r = await access(
      ['request', 'create', '--roles', 'dba', '--reason', 'ticket 42', '--nowait'],
      alice,
    );
    expect(r.code).toBe(0);
    const id = r.stderr.match(/Created access request (\S+) \(PENDING\)/)?.[1];
    expect(id).toBeDefined();
    expect(r.stderr).toContain(`access request wait ${id}`);
    expect(r.stdout).toContain(`ID:              ${id}\n`);
    expect(r.stdout).toContain('Reason:          "ticket 42"\n');
    expect(r.stdout).toContain('State:           PENDING (0 of 1 approval)\n');
  });

  test('create --format json: one request document with the spec fields', async () => {
    const req = await accessJson<AccessRequest>(
      [
        'request',
        'create',
        '--roles',
        'dba',
        '--reason',
        'json',
        '--reviewers',
        'bob,carol',
        '--nowait',
        '--request-ttl',
        '2h',
      ],
      alice,
    );
    expectSchema('request', req);
    expect(req).toMatchObject({
      user: 'alice',
      roles: ['dba'],
      resources: [],
      state: 'PENDING',
      reason: 'json',
      resolve_reason: '',
      reviews: [],
    });
    expect(req.suggested_reviewers).toEqual(expect.arrayContaining(['bob', 'carol']));
    const ttl = Date.parse(req.expires!) - Date.parse(req.created!);
    expect(ttl).toBeGreaterThan(2 * 3600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(2 * 3600_000);
  });

  test('create for a resource found by search', async () => {
    const req = await accessJson<AccessRequest>(
      ['request', 'create', '--resource', `/local/node/${NODE_WEB}`, '--reason', 'node', '--nowait'],
      alice,
    );
    expect(req.resources).toEqual([`/local/node/${NODE_WEB}`]);
    const shown = await access(['request', 'show', req.id], alice);
    expect(shown.stdout).toContain(`Resources:       /local/node/${NODE_WEB} (web-1)\n`);
  });

  test('create for a user group and a SAML service provider found by search', async () => {
    const ids = ['/local/user_group/okta-eng', '/local/saml_idp_service_provider/grafana-sso'];
    const req = await accessJson<AccessRequest>(
      ['request', 'create', '--resource', ids[0], '--resource', ids[1], '--reason', 'okta', '--nowait'],
      alice,
    );
    expect(req.resources).toEqual(ids);
    expect(req.roles).toEqual(['node-access']);
    for (const hidden of ['/local/user_group/okta-finance', '/local/saml_idp_service_provider/payroll-sso']) {
      const r = await access(['request', 'create', '--resource', hidden, '--reason', 'x', '--nowait'], alice);
      expect(r.code).toBe(7);
      expect(r.stderr).toContain(`error: user "alice" can not request resource "${hidden}"`);
    }
  });

  test('--user: an admin creates a request on behalf of alice', async () => {
    const req = await accessJson<AccessRequest>(
      ['request', 'create', '--user', 'alice', '--roles', 'dba', '--reason', 'for alice', '--nowait'],
      admin,
    );
    expect(req).toMatchObject({ user: 'alice', roles: ['dba'], state: 'PENDING' });
    const denied = await access(['request', 'create', '--user', 'alice', '--roles', 'dba', '--nowait'], bob);
    expect(denied.code).toBe(7);
  });

  test('--dry-run validates without storing', async () => {
    const before = await accessJson<AccessRequest[]>(['request', 'ls', '--mine'], alice);
    const r = await access(['request', 'create', '--roles', 'dba', '--dry-run', '--format', 'json'], alice);
    expect(r.code).toBe(0);
    expectSchema('dry-run', JSON.parse(r.stdout));
    expect(await accessJson<AccessRequest[]>(['request', 'ls', '--mine'], alice)).toHaveLength(before.length);
  });

  test('ls: text rows on a pipe, JSON array, server-side filters', async () => {
    const req = await createPending('dba', 'listed');
    const text = await access(['request', 'ls'], alice);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^ID\s+User\s+Roles\s+Resources\s+Created At \(UTC\)\s+Request TTL\s+Access TTL\s+State\s+Approvals\s+Reviewed By\s+Reason$/,
    );
    expect(text.stdout).toMatch(
      new RegExp(
        `^${req.id}\\s+alice\\s+dba\\s+-\\s+\\d\\d \\w{3} \\d\\d \\d\\d:\\d\\d UTC\\s+\\S+\\s+\\S+\\s+PENDING\\s+0/1\\s+-\\s+"listed"$`,
        'm',
      ),
    );
    expect(text.stderr).toContain('access request show <id>');

    const mine = await accessJson<AccessRequest[]>(['request', 'ls', '--mine'], alice);
    expectSchema('requests', mine);
    expect(mine.map((r) => r.id)).toContain(req.id);
    expect(mine.every((r) => r.user === 'alice')).toBe(true);
    // Newest first by default; --asc reverses.
    const created = mine.map((r) => r.created!);
    // Compare as times: RFC 3339 text does not sort (a whole second has no fraction: `…:33Z` > `…:33.9Z`).
    expect([...created].sort((a, b) => Date.parse(b) - Date.parse(a))).toEqual(created);
    const asc = await accessJson<AccessRequest[]>(['request', 'ls', '--mine', '--asc'], alice);
    expect(asc.map((r) => r.id)).toEqual(mine.map((r) => r.id).reverse());

    const one = await accessJson<AccessRequest[]>(['request', 'ls', '--limit', '1'], alice);
    expect(one).toHaveLength(1);

    const reviewable = await accessJson<AccessRequest[]>(['request', 'ls', '--reviewable'], bob);
    expect(reviewable.map((r) => r.id)).toContain(req.id);
    const suggestedBob = await accessJson<AccessRequest[]>(['request', 'ls', '--suggested'], bob);
    expect(suggestedBob.map((r) => r.id)).toContain(req.id);
    const suggestedCarol = await accessJson<AccessRequest[]>(['request', 'ls', '--suggested'], carol);
    expect(suggestedCarol.map((r) => r.id)).not.toContain(req.id);

    const byUser = await accessJson<AccessRequest[]>(
      ['request', 'ls', '--user', 'alice', '--state', 'pending'],
      admin,
    );
    expect(byUser.length).toBeGreaterThan(0);
    expect(byUser.every((r) => r.user === 'alice' && r.state === 'PENDING')).toBe(true);
    expect(await accessJson<AccessRequest[]>(['request', 'ls', '--user', 'nobody'], admin)).toEqual([]);
  });

  test('ls on a terminal: resources whole, one a line, never cut or footnoted', async () => {
    await accessJson(
      [
        'request',
        'create',
        '--resource',
        `/local/node/${NODE_WEB}`,
        '--resource',
        `/local/node/${NODE_DB}`,
        '--nowait',
      ],
      alice,
    );
    // In-process, so stdout can be a (fake) terminal; same server, same wire.
    const r = await runCli(['request', 'ls', '--mine'], { env: alice, isTTY: true, columns: 200 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\u001b\[1mID\s/);
    const lines = r.stdout.split('\n');
    for (const node of [NODE_WEB, NODE_DB]) {
      expect(
        lines.some((l) => l.trimEnd().endsWith(`/local/node/${node}`) || l.includes(`/local/node/${node} `)),
      ).toBe(true);
    }
    expect(r.stdout).not.toContain('[+]');
    expect(r.stderr).not.toContain('[+]');
  });

  test('ls --format yaml prints the same list', async () => {
    const r = await runAccess(['request', 'ls', '--mine', '--format', 'yaml'], alice);
    const { parse } = await import('yaml');
    const json = await accessJson<AccessRequest[]>(['request', 'ls', '--mine'], alice);
    expect(parse(r.stdout)).toEqual(json);
  });

  test('show: JSON is one object for one ID, an array for several; unknown ID exits 6', async () => {
    const a = await createPending();
    const b = await createPending('auditor', 'two');
    const one = await accessJson<AccessRequest>(['request', 'show', a.id], alice);
    expectSchema('request', one);
    expect(one.id).toBe(a.id);
    // A single ID given comma-separated with another is two IDs: an array.
    const pair = await accessJson<AccessRequest[]>(['request', 'show', `${a.id},${b.id}`], alice);
    expectSchema('requests', pair);
    const two = await accessJson<AccessRequest[]>(['request', 'show', a.id, b.id], alice);
    expect(two.map((r) => r.id)).toEqual([a.id, b.id]);
    expect(two[1].thresholds).toEqual([{ name: 'two-approvals', approve: 2, deny: 1 }]);

    const missing = await runAccess(['request', 'show', '00000000-0000-0000-0000-000000000000'], alice);
    expect(missing.code).toBe(6);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('error: access request "00000000-0000-0000-0000-000000000000" not found\n');
  });
});
