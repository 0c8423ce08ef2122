import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_SEED_YAML, demoSeed } from '../../../src/server/demo-seed.js';
import { loadSeedFile, parseSeed, SeedError } from '../../../src/server/seed.js';

const ROLE_DBA = `kind: role
version: v7
metadata:
  name: dba
spec:
  options:
    max_session_ttl: 8h
  allow:
    request:
      roles: [auditor]
`;

function seedError(yaml: string): SeedError {
  try {
    parseSeed(yaml, 'x.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(SeedError);
    return err as SeedError;
  }
  throw new Error('expected a SeedError');
}

describe('demo seed', () => {
  it('loads with the users, roles and resources the demo needs', () => {
    const seed = demoSeed();
    const users = Object.fromEntries(seed.users.map((u) => [u.name, u.roles]));
    expect(users).toEqual({
      alice: ['requester', 'dba-requester'],
      bob: ['reviewer'],
      carol: ['reviewer'],
      dave: ['contractor'],
      admin: ['access-admin'],
      'access-plugin': ['access-plugin'],
    });
    expect(seed.roles.map((r) => r.name).sort()).toEqual([
      'access-admin',
      'access-plugin',
      'auditor',
      'contractor',
      'dba',
      'dba-requester',
      'requester',
      'resource-access',
      'reviewer',
    ]);
    const count = (kind: string) => seed.resources.filter((r) => r.kind === kind).length;
    expect([
      count('node'),
      count('db'),
      count('app'),
      count('kube_cluster'),
      count('windows_desktop'),
      count('user_group'),
      count('saml_idp_service_provider'),
    ]).toEqual([4, 2, 2, 1, 1, 1, 1]);
    const pods = seed.resources.filter((r) => r.kind === 'kube_resource');
    expect(new Set(pods.map((p) => p.namespace))).toEqual(new Set(['dev', 'prod']));
    expect(pods[0]).toMatchObject({ kubeKind: 'pods', apiGroup: '', kubeCluster: 'demo-kube' });
    const dbaRequester = seed.roles.find((r) => r.name === 'dba-requester')!;
    expect(dbaRequester.allow.request?.reason).toEqual({ mode: 'required' });
    expect(dbaRequester.allow.request?.thresholds).toEqual([
      { name: 'two-dba-approvals', approve: 2, deny: 1 },
    ]);
  });

  it('round-trips through a seed file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'access-seed-'));
    try {
      const file = join(dir, 'demo.yaml');
      await writeFile(file, DEMO_SEED_YAML);
      expect(await loadSeedFile(file)).toEqual(demoSeed());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('survives JSON storage unchanged', () => {
    const seed = demoSeed();
    expect(JSON.parse(JSON.stringify(seed))).toEqual(seed);
  });
});

describe('seed validation', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('names an unknown field and its document', () => {
    const yaml = `${ROLE_DBA}---\n# empty second document is skipped but counted\n---\n${ROLE_DBA.replace('request:', 'reqeust:').replace('name: dba', 'name: dba2')}`;
    expect(seedError(yaml).message).toBe(
      'seed "x.yaml" document 3 (role "dba2"): unknown field "spec.allow.reqeust"',
    );
  });

  it('reads cluster_auth_preference (legacy second_factor and second_factors) and bot users', () => {
    const seed = parseSeed(
      `${ROLE_DBA}---
kind: cluster_auth_preference
version: v2
metadata: { name: cluster-auth-preference }
spec: { type: local, second_factors: [webauthn, sso] }
---
kind: user
version: v2
metadata: { name: bot-ci, labels: { teleport.internal/bot: ci } }
spec: { roles: [dba] }
`,
      'x.yaml',
    );
    expect(seed.authPreference).toEqual({ secondFactors: ['webauthn', 'sso'] });
    expect(seed.users).toEqual([{ name: 'bot-ci', roles: ['dba'], traits: {}, bot: true }]);
    expect(
      seedError(`${ROLE_DBA}---
kind: cluster_auth_preference
metadata: { name: cluster-auth-preference }
spec: { second_factor: u2f }
`).message,
    ).toMatch(/document 2 .*field "spec.second_factor": /);
  });

  it('names an unknown top-level field', () => {
    expect(seedError(`${ROLE_DBA}spek: {}\n`).message).toBe(
      'seed "x.yaml" document 1 (role "dba"): unknown field "spek"',
    );
  });

  it('refuses a user whose role does not exist', () => {
    const yaml = `${ROLE_DBA}---\nkind: user\nmetadata: {name: alice}\nspec: {roles: [dba, nope]}\n`;
    expect(seedError(yaml).message).toBe(
      'seed "x.yaml" document 2 (user "alice"): field "spec.roles[1]": role "nope" does not exist',
    );
  });

  it('refuses a search_as_roles entry that does not exist', () => {
    const yaml = `kind: role\nmetadata: {name: r}\nspec:\n  allow:\n    request:\n      search_as_roles: [ghost]\n`;
    expect(seedError(yaml).message).toContain(
      'field "spec.allow.request.search_as_roles[0]": role "ghost" does not exist',
    );
  });

  it.each([
    [
      'a bad duration',
      ROLE_DBA.replace('8h', '8x'),
      'field "spec.options.max_session_ttl": invalid duration "8x"',
    ],
    [
      'a bad request_access',
      ROLE_DBA.replace('max_session_ttl: 8h', 'request_access: sometimes'),
      'field "spec.options.request_access": expected one of optional, reason, always, got "sometimes"',
    ],
    [
      'a matcher that does not compile',
      ROLE_DBA.replace('[auditor]', () => "['^db-($']"),
      'field "spec.allow.request.roles[0]": failed to parse regexp',
    ],
    [
      'an unsupported template',
      ROLE_DBA.replace('[auditor]', '[\'{{regexp.split("x")}}\']'),
      'unsupported matcher expression',
    ],
    [
      'a where clause that does not parse',
      'kind: role\nmetadata: {name: r}\nspec:\n  allow:\n    review_requests:\n      roles: [a]\n      where: contains(request.roles\n',
      'field "spec.allow.review_requests.where": invalid expression: expected ")"',
    ],
    [
      'thresholds in a deny block',
      'kind: role\nmetadata: {name: r}\nspec:\n  deny:\n    request:\n      thresholds: [{approve: 1}]\n',
      'deny.request cannot contain thresholds',
    ],
    [
      'a max_duration above 14 days',
      'kind: role\nmetadata: {name: r}\nspec:\n  allow:\n    request:\n      roles: [a]\n      max_duration: 15d\n',
      'max access duration must be less than or equal to 336h0m0s',
    ],
    ['an unknown kind', 'kind: rol\nmetadata: {name: r}\n', 'document 1: field "kind": unknown kind "rol"'],
    ['a missing name', 'kind: role\nmetadata: {}\nspec: {}\n', 'field "metadata.name": is required'],
    [
      'a node without hostname',
      'kind: node\nmetadata: {name: n1}\nspec: {addr: "x:1"}\n',
      'field "spec.hostname": is required',
    ],
    [
      'a kube_resource in an unknown cluster',
      'kind: kube_resource\nmetadata: {name: p}\nspec: {kind: pods, namespace: dev, kube_cluster: nope}\n',
      'field "spec.kube_cluster": kube_cluster "nope" does not exist',
    ],
    [
      'a namespaced kube_resource without namespace',
      'kind: kube_cluster\nmetadata: {name: k}\n---\nkind: kube_resource\nmetadata: {name: p}\nspec: {kind: pods, kube_cluster: k}\n',
      'document 2 (kube_resource "p"): field "spec.namespace": is required for pods',
    ],
    [
      'a duplicate role',
      `${ROLE_DBA}---\n${ROLE_DBA}`,
      'document 2 (role "dba"): duplicate role (also defined in document 1)',
    ],
    ['invalid YAML', 'kind: role\nmetadata: [\n', 'document 1: invalid YAML'],
    [
      'a list where a map belongs',
      'kind: user\nmetadata: {name: u}\nspec: [a]\n',
      'field "spec": expected a map',
    ],
  ])('refuses %s', (_name, yaml, fragment) => {
    expect(seedError(yaml).message).toContain(fragment);
  });

  it('reports an unreadable file as a SeedError', async () => {
    dir = await mkdtemp(join(tmpdir(), 'access-seed-'));
    await expect(loadSeedFile(join(dir, 'missing.yaml'))).rejects.toThrow(SeedError);
    await expect(loadSeedFile(join(dir, 'missing.yaml'))).rejects.toThrow('no such file');
  });

  it('reads trait templates in label selectors and scalar labels', () => {
    const seed = parseSeed(
      `kind: role\nmetadata: {name: r}\nspec:\n  allow:\n    node_labels:\n      owner: '{{internal.logins}}'\n      tier: 1\n---\nkind: node\nmetadata:\n  name: n1\n  labels: {tier: 1, on: true}\nspec: {hostname: h}\n`,
      'x.yaml',
    );
    expect(seed.roles[0].allow.node_labels).toEqual({ owner: '{{internal.logins}}', tier: '1' });
    expect(seed.resources[0].labels).toEqual({ tier: '1', on: 'true' });
  });
});
