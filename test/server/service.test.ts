import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListKubernetesResourcesRequest } from '../../src/gen/teleport/kube/v1/kube_service.js';
import {
  AccessRequestSort,
  type DeepPartial,
  ListAccessRequestsRequest,
  ListResourcesRequest,
  ListUnifiedResourcesRequest,
  UserCertsRequest,
} from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import {
  AccessCapabilitiesRequest,
  AccessRequestFilter,
  AccessRequestScope,
  AccessRequestV3,
  AccessReview,
  RequestState,
  SignatureAlgorithmSuite,
} from '../../src/gen/teleport/legacy/types/types.js';
import { generateKey } from '../../src/identity/keys.js';
import { parseSshCertificate, sshPublicKeyFromPem } from '../../src/identity/ssh.js';
import { parseIdentity } from '../../src/identity/x509.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import {
  connectIdentity,
  connectPems,
  failure,
  parseIdentityPems,
  type TestClient,
} from '../helpers/grpc.js';

let dir: string;
let server: RunningServer;
const c: Record<string, TestClient> = {};
const extra: TestClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-service-'));
  server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
  for (const user of ['alice', 'bob', 'carol', 'dave', 'admin']) {
    c[user] = await connectIdentity(server.addr, server.identityPath(user));
  }
});

afterAll(async () => {
  for (const x of [...Object.values(c), ...extra]) x.close();
  await server?.stop({ graceMs: 1000 });
  await rm(dir, { recursive: true, force: true });
});

const create = (user: string, spec: DeepPartial<AccessRequestV3>['spec'], name = randomUUID()) =>
  c[user].call(
    'createAccessRequestV2',
    AccessRequestV3.fromPartial({ metadata: { name }, spec: { user, ...spec } }),
  );

const approve = (user: string, id: string) =>
  c[user].call('submitAccessReview', {
    requestId: id,
    review: AccessReview.fromPartial({ proposedState: RequestState.APPROVED, reason: 'ok' }),
  });

const list = (user: string, req: DeepPartial<ListAccessRequestsRequest>) =>
  c[user].call('listAccessRequests', ListAccessRequestsRequest.fromPartial(req));

describe('basic methods', () => {
  it('Ping reports the cluster, version and features', async () => {
    expect(await c.alice.call('ping', {})).toMatchObject({
      clusterName: 'local',
      serverVersion: '18.0.0',
      serverFeatures: {
        advancedAccessWorkflows: true,
        accessRequests: { monthlyRequestLimit: 0 },
        identityGovernance: true,
      },
      signatureAlgorithmSuite: SignatureAlgorithmSuite.SIGNATURE_ALGORITHM_SUITE_BALANCED_V1,
    });
  });

  it('GetCurrentUser, GetCurrentUserRoles, GetDomainName, GetClusterCACert', async () => {
    expect(await c.alice.call('getCurrentUser', {})).toMatchObject({
      kind: 'user',
      version: 'v2',
      metadata: { name: 'alice' },
      spec: { roles: ['requester', 'dba-requester'], traits: { values: { logins: { values: ['alice'] } } } },
    });
    const roles = await c.alice.collect('getCurrentUserRoles', {});
    expect(roles.map((r) => [r.kind, r.metadata?.name])).toEqual([
      ['role', 'requester'],
      ['role', 'dba-requester'],
    ]);
    expect(await c.alice.call('getDomainName', {})).toEqual({ domainName: 'local' });
    const ca = await c.alice.call('getClusterCACert', {});
    expect(ca.tlsCa.toString()).toBe(await readFile(join(dir, 'ca', 'host.crt'), 'utf8'));
  });

  it('GetAccessCapabilities answers for the caller', async () => {
    const caps = await c.alice.call(
      'getAccessCapabilities',
      AccessCapabilitiesRequest.fromPartial({ requestableRoles: true, suggestedReviewers: true }),
    );
    expect(caps.requestableRoles).toEqual(expect.arrayContaining(['auditor', 'dba']));
    expect(caps.suggestedReviewers).toEqual(expect.arrayContaining(['bob', 'carol']));
  });
});

describe('creating requests', () => {
  it('creates a pending request with a time-ordered UUID', async () => {
    const req = await create('alice', { roles: ['auditor'], requestReason: 'look around' });
    expect(req.metadata?.name).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(req).toMatchObject({ kind: 'access_request', version: 'v3', metadata: { namespace: 'default' } });
    expect(req.spec).toMatchObject({
      user: 'alice',
      roles: ['auditor'],
      state: RequestState.PENDING,
      dryRun: false,
    });
    expect(req.spec?.created).toBeInstanceOf(Date);
  });

  it('sets the ID itself, whatever ID the client chose (auth_with_roles.go: CreateAccessRequestV2)', async () => {
    const id = '0193c1e2-aaaa-7bbb-8ccc-0123456789ab';
    const first = await create('alice', { roles: ['auditor'] }, id);
    const second = await create('alice', { roles: ['auditor'] }, id);
    expect(first.metadata?.name).not.toBe(id);
    expect(second.metadata?.name).not.toBe(first.metadata?.name);
  });

  it('takes the request TTL from metadata.expires', async () => {
    const ttl = new Date(Math.floor(Date.now() / 1000) * 1000 + 3600_000);
    const req = await c.alice.call(
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID(), expires: ttl },
        spec: { user: 'alice', roles: ['auditor'] },
      }),
    );
    expect(req.metadata?.expires?.getTime()).toBe(ttl.getTime());
  });

  it('returns a dry run without storing it', async () => {
    const dry = await create('alice', { roles: ['auditor'], dryRun: true });
    expect(dry.spec?.dryRun).toBe(true);
    const found = await c.alice.collect(
      'getAccessRequestsV2',
      AccessRequestFilter.fromPartial({ id: dry.metadata!.name }),
    );
    expect(found).toEqual([]);
  });

  it('lets only callers with the create rule create for others', async () => {
    expect(await failure(create('alice', { user: 'dave', roles: ['auditor'], requestReason: 'x' }))).toEqual({
      code: 7,
      details: 'access denied to perform action "create" on "access_request"',
    });
    const forAlice = await create('admin', { user: 'alice', roles: ['auditor'] });
    expect(forAlice.spec?.user).toBe('alice');
  });

  it('passes policy refusals through with their codes', async () => {
    expect(await failure(create('alice', { roles: ['access-admin'] }))).toMatchObject({ code: 3 });
  });
});

describe('listing', () => {
  it('filters by scope and pages in order with NextKey', async () => {
    const mine = [];
    for (let i = 0; i < 5; i++)
      mine.push(
        (
          await c.alice.call(
            'createAccessRequestV2',
            AccessRequestV3.fromPartial({
              metadata: { name: randomUUID(), labels: { batch: 'paging' } },
              spec: { user: 'alice', roles: ['auditor'], requestReason: `page ${i}` },
            }),
          )
        ).metadata!.name,
      );
    const ids: string[] = [];
    let startKey = '';
    let pages = 0;
    do {
      const page = await list('alice', {
        filter: { scope: AccessRequestScope.MY_REQUESTS, searchKeywords: ['paging'] },
        sort: AccessRequestSort.CREATED,
        descending: true,
        limit: 2,
        startKey,
      });
      ids.push(...page.accessRequests.map((r) => r.metadata!.name));
      startKey = page.nextKey;
      pages++;
    } while (startKey);
    expect(ids).toEqual([...mine].reverse());
    expect(pages).toBe(3);

    const needsReview = await list('bob', { filter: { scope: AccessRequestScope.NEEDS_REVIEW } });
    expect(needsReview.accessRequests.map((r) => r.metadata!.name)).toEqual(expect.arrayContaining(mine));
    await approve('bob', mine[0]);
    const after = await list('bob', { filter: { scope: AccessRequestScope.NEEDS_REVIEW } });
    expect(after.accessRequests.map((r) => r.metadata!.name)).not.toContain(mine[0]);
    const reviewed = await list('bob', { filter: { scope: AccessRequestScope.REVIEWED } });
    expect(reviewed.accessRequests.map((r) => r.metadata!.name)).toContain(mine[0]);
    const approved = await list('alice', { filter: { state: RequestState.APPROVED, user: 'alice' } });
    expect(approved.accessRequests.map((r) => r.metadata!.name)).toContain(mine[0]);
    expect(approved.accessRequests.every((r) => r.spec?.state === RequestState.APPROVED)).toBe(true);
  });

  it('hides requests a caller may neither own, review nor list', async () => {
    await create('alice', { roles: ['auditor'], requestReason: 'hidden from dave' });
    const seen = await c.dave.collect('getAccessRequestsV2', AccessRequestFilter.fromPartial({}));
    expect(seen.every((r) => r.spec?.user === 'dave')).toBe(true);
    const admin = await c.admin.collect(
      'getAccessRequestsV2',
      AccessRequestFilter.fromPartial({ user: 'alice' }),
    );
    expect(admin.length).toBeGreaterThan(0);
  });

  it('refuses a malformed start key', async () => {
    expect(await failure(list('alice', { startKey: 'nonsense' }))).toMatchObject({ code: 3 });
  });
});

describe('changing requests', () => {
  it('SetAccessRequestState needs the update rule', async () => {
    const req = await create('alice', { roles: ['auditor'] });
    const setter = {
      id: req.metadata!.name,
      state: RequestState.DENIED,
      delegator: 'pagerduty',
      reason: 'not now',
      annotations: { values: { ticket: { values: ['T-1'] } } },
      roles: [],
      assumeStartTime: undefined,
    };
    expect(await failure(c.bob.call('setAccessRequestState', setter))).toEqual({
      code: 7,
      details: 'access denied to perform action "update" on "access_request"',
    });
    await c.admin.call('setAccessRequestState', setter);
    const [after] = await c.alice.collect(
      'getAccessRequestsV2',
      AccessRequestFilter.fromPartial({ id: setter.id }),
    );
    expect(after.spec).toMatchObject({ state: RequestState.DENIED, resolveReason: 'not now' });
    expect(
      await failure(
        c.admin.call('setAccessRequestState', { ...setter, id: '0193c1e2-0000-7000-8000-00000000dead' }),
      ),
    ).toMatchObject({
      code: 5,
    });
  });

  it('DeleteAccessRequest needs the delete rule and reports NotFound', async () => {
    const req = await create('alice', { roles: ['auditor'] });
    const id = req.metadata!.name;
    expect(await failure(c.alice.call('deleteAccessRequest', { id }))).toMatchObject({ code: 7 });
    await c.admin.call('deleteAccessRequest', { id });
    expect(await failure(c.admin.call('deleteAccessRequest', { id }))).toEqual({
      code: 5,
      details: `cannot delete access request "${id}" (not found)`,
    });
  });

  it('refuses reviews on behalf of another user, even from an admin (auth_with_roles.go: AuthorizeAccessReviewRequest)', async () => {
    const req = await create('alice', { roles: ['auditor'] });
    const review = AccessReview.fromPartial({ author: 'carol', proposedState: RequestState.APPROVED });
    for (const who of ['bob', 'admin']) {
      expect(
        await failure(c[who].call('submitAccessReview', { requestId: req.metadata!.name, review })),
      ).toEqual({ code: 7, details: `user "${who}" cannot submit reviews on behalf of "carol"` });
    }
    const [after] = await c.admin.collect(
      'getAccessRequestsV2',
      AccessRequestFilter.fromPartial({ id: req.metadata!.name }),
    );
    expect(after.spec?.reviews).toEqual([]);
  });

  it('refuses a review from a user without any review_requests (RoleSet.MaybeCanReviewRequests)', async () => {
    const req = await create('alice', { roles: ['auditor'] });
    const review = AccessReview.fromPartial({ proposedState: RequestState.APPROVED });
    expect(
      await failure(c.dave.call('submitAccessReview', { requestId: req.metadata!.name, review })),
    ).toEqual({
      code: 7,
      details: 'user "dave" cannot submit reviews',
    });
  });
});

describe('GenerateUserCerts', () => {
  async function certsFor(user: string, req: DeepPartial<UserCertsRequest>) {
    const key = await generateKey('ecdsa-p256');
    const res = await c[user].call(
      'generateUserCerts',
      UserCertsRequest.fromPartial({
        username: user,
        expires: new Date(Date.now() + 3600_000),
        ...req,
        tlsPublicKey: Buffer.from(key.publicKeyPem),
        sshPublicKey: Buffer.from(sshPublicKeyFromPem(key.publicKeyPem)),
      }),
    );
    return { res, key };
  }

  it('adds an approved request of the caller and the new certificate works', async () => {
    const req = await create('alice', { roles: ['auditor'], requestReason: 'certs' });
    const id = req.metadata!.name;
    await approve('bob', id);
    const aliceCert = parseIdentity(
      parseIdentityPems(await readFile(server.identityPath('alice'), 'utf8')).certPem,
    );
    const { res, key } = await certsFor('alice', { accessRequests: [id] });
    const identity = parseIdentity(res.tls.toString());
    expect(identity).toMatchObject({ username: 'alice', activeRequests: [id] });
    expect(identity.roles).toEqual(expect.arrayContaining(['requester', 'dba-requester', 'auditor']));
    expect(identity.expires.getTime()).toBeLessThanOrEqual(aliceCert.expires.getTime());
    expect(identity.expires.getTime()).toBeLessThanOrEqual(
      req.spec!.expires!.getTime() + 1000 * 3600 * 24 * 14,
    );
    expect(res.tlsCaCerts.map((b) => b.toString())).toEqual([
      await readFile(join(dir, 'ca', 'host.crt'), 'utf8'),
      await readFile(join(dir, 'ca', 'user.crt'), 'utf8'),
    ]);
    const ssh = parseSshCertificate(res.ssh.toString().trim());
    expect(ssh).toMatchObject({ certType: 'user', keyId: 'alice', signatureValid: true });
    // None of alice's roles grants a login: Teleport's placeholder principal stands in.
    expect(ssh.principals).toEqual([expect.stringMatching(/^-teleport-nologin-/)]);
    expect(res.sshCaCerts[0].toString()).toMatch(/^ecdsa-sha2-nistp256 /);

    // The re-issued certificate authenticates, with the assumed request in its identity.
    const assumed = connectPems(server.addr, {
      keyPem: key.privateKeyPem,
      certPem: res.tls.toString(),
      caPems: res.tlsCaCerts.map((b) => b.toString()),
    });
    extra.push(assumed);
    const roles = await assumed.collect('getCurrentUserRoles', {});
    expect(roles.map((r) => r.metadata?.name)).toContain('auditor');

    // Dropping every request (from the assumed certificate) removes the role again.
    const dropKey = await generateKey('ecdsa-p256');
    const dropped = await assumed.call(
      'generateUserCerts',
      UserCertsRequest.fromPartial({
        username: 'alice',
        expires: new Date(Date.now() + 3600_000),
        dropAccessRequests: ['*'],
        tlsPublicKey: Buffer.from(dropKey.publicKeyPem),
      }),
    );
    const droppedId = parseIdentity(dropped.tls.toString());
    expect(droppedId.activeRequests).toEqual([]);
    expect(droppedId.roles).not.toContain('auditor');
    expect(dropped.ssh.length).toBe(0);
  });

  it('honours a shorter requested expiry', async () => {
    const expires = new Date(Date.now() + 10 * 60_000);
    const { res } = await certsFor('alice', { expires });
    expect(Math.abs(parseIdentity(res.tls.toString()).expires.getTime() - expires.getTime())).toBeLessThan(
      1000,
    );
  });

  it('refuses requests that are not approved', async () => {
    const req = await create('alice', { roles: ['auditor'] });
    const err = await failure(certsFor('alice', { accessRequests: [req.metadata!.name] }));
    expect(err).toEqual({ code: 7, details: `access request "${req.metadata!.name}" is awaiting approval` });
  });

  it('impersonation needs the impersonate rule', async () => {
    expect(await failure(certsFor('bob', { username: 'alice' }))).toEqual({
      code: 7,
      details: 'access denied: impersonation is not allowed',
    });
    const { res } = await certsFor('admin', { username: 'bob' });
    expect(parseIdentity(res.tls.toString())).toMatchObject({
      username: 'bob',
      roles: ['reviewer'],
      impersonator: 'admin',
    });
  });

  it('needs a public key', async () => {
    expect(
      await failure(
        c.alice.call(
          'generateUserCerts',
          UserCertsRequest.fromPartial({ username: 'alice', expires: new Date(Date.now() + 3600_000) }),
        ),
      ),
    ).toMatchObject({
      code: 3,
    });
  });
});

describe('resources', () => {
  const listRes = (user: string, req: DeepPartial<ListResourcesRequest>) =>
    c[user].call('listResources', ListResourcesRequest.fromPartial(req));

  it('refuses a negative page size, as ListResourcesRequest.CheckAndSetDefaults does', async () => {
    expect(
      await failure(listRes('alice', { resourceType: 'node', useSearchAsRoles: true, limit: -1 })),
    ).toEqual({
      code: 3,
      details: 'negative parameter limit',
    });
  });

  it('lists nodes alice may request via search_as_roles, paged', async () => {
    const all = await listRes('alice', {
      resourceType: 'node',
      useSearchAsRoles: true,
      needTotalCount: true,
    });
    const hostnames = all.resources.map((r) =>
      r.resource?.$case === 'node' ? r.resource.value.spec?.hostname : '',
    );
    expect(hostnames).toEqual(expect.arrayContaining(['web-dev-1', 'api-staging-1']));
    expect(hostnames).not.toContain('db-prod-1');
    expect(all.totalCount).toBe(all.resources.length);
    const first = await listRes('alice', { resourceType: 'node', useSearchAsRoles: true, limit: 1 });
    expect(first.resources).toHaveLength(1);
    const second = await listRes('alice', {
      resourceType: 'node',
      useSearchAsRoles: true,
      limit: 1,
      startKey: first.nextKey,
    });
    expect(second.resources[0]).not.toEqual(first.resources[0]);
  });

  it('maps databases to the db_server arm and applies predicates', async () => {
    const dbs = await listRes('alice', {
      resourceType: 'db_server',
      useSearchAsRoles: true,
      predicateExpression: 'labels["env"] == "dev"',
    });
    expect(dbs.resources.map((r) => r.resource?.$case)).toEqual(['databaseServer']);
    const db = dbs.resources[0].resource;
    expect(db?.$case === 'databaseServer' && db.value.spec?.database?.metadata?.name).toBe('postgres-dev');
    expect(
      await failure(listRes('alice', { resourceType: 'node', predicateExpression: 'labels[' })),
    ).toMatchObject({ code: 3 });
    expect(await failure(listRes('alice', { resourceType: 'printer' }))).toMatchObject({ code: 3 });
  });

  it('lists user groups and SAML IdP service providers in their own arms, only through search_as_roles', async () => {
    const names = (res: Awaited<ReturnType<typeof listRes>>) =>
      res.resources.map((r) => {
        const arm = r.resource;
        if (arm?.$case === 'userGroup' || arm?.$case === 'samlIdpServiceProvider') {
          return [arm.$case, arm.value.header?.kind, arm.value.header?.metadata?.name];
        }
        return [arm?.$case];
      });
    const groups = await listRes('alice', { resourceType: 'user_group', useSearchAsRoles: true });
    expect(names(groups)).toEqual([['userGroup', 'user_group', 'okta-dev-team']]);
    const group = groups.resources[0].resource;
    expect(group?.$case === 'userGroup' && group.value.spec?.applications).toEqual(['grafana-saml']);
    const sps = await listRes('alice', { resourceType: 'saml_idp_service_provider', useSearchAsRoles: true });
    expect(names(sps)).toEqual([['samlIdpServiceProvider', 'saml_idp_service_provider', 'grafana-saml']]);
    const sp = sps.resources[0].resource;
    expect(sp?.$case === 'samlIdpServiceProvider' && sp.value.spec?.entityId).toBe(
      'https://grafana.example.com/saml/metadata',
    );
    // Alice's own roles hold no group_labels/app_labels for them; bob may search nothing.
    for (const resourceType of ['user_group', 'saml_idp_service_provider']) {
      expect((await listRes('alice', { resourceType })).resources).toEqual([]);
      expect((await listRes('bob', { resourceType, useSearchAsRoles: true })).resources).toEqual([]);
    }
  });

  it('ListUnifiedResources marks what needs a request', async () => {
    const res = await c.alice.call(
      'listUnifiedResources',
      ListUnifiedResourcesRequest.fromPartial({ kinds: ['node', 'app'], includeRequestable: true }),
    );
    expect(res.resources.length).toBeGreaterThan(0);
    expect(res.resources.every((r) => r.requiresRequest)).toBe(true);
    expect(new Set(res.resources.map((r) => r.resource?.$case))).toEqual(new Set(['node', 'appServer']));
  });

  it('lists Kubernetes pods of a cluster and namespace', async () => {
    const res = await new Promise<{
      resources: { kind: string; metadata?: { name: string }; spec?: { namespace: string } }[];
    }>((resolve, reject) =>
      c.alice.kube.listKubernetesResources(
        ListKubernetesResourcesRequest.fromPartial({
          resourceType: 'kube:ns:pods',
          kubernetesCluster: 'demo-kube',
          kubernetesNamespace: 'dev',
          useSearchAsRoles: true,
        }),
        (err, r) => (err ? reject(err) : resolve(r)),
      ),
    );
    expect(res.resources.map((r) => [r.kind, r.spec?.namespace, r.metadata?.name])).toEqual([
      ['pods', 'dev', 'web-7d9f8'],
      ['pods', 'dev', 'worker-5c4b2'],
    ]);
    const missing = await new Promise<ServiceError>((resolve) =>
      c.alice.kube.listKubernetesResources(
        ListKubernetesResourcesRequest.fromPartial({ resourceType: 'pods' }),
        (err) => resolve(err!),
      ),
    );
    expect(missing.code).toBe(3);
  });
});
