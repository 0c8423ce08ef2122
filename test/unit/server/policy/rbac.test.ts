import { describe, expect, it } from 'vitest';
import type { AccessRequestV3 } from '../../../../src/gen/teleport/legacy/types/types.js';
import { RequestState } from '../../../../src/gen/teleport/legacy/types/types.js';
import { fromLabelValues } from '../../../../src/server/requests/wire.js';
import { type Policy, ServerError } from '../../../../src/server/types.js';
import {
  CLUSTER,
  caller,
  create,
  DAY,
  demoPolicy,
  HOUR,
  NODE_DEV,
  NODE_PROD,
  NODE_STAGING,
  NOW,
  request,
  resourceIds,
  review,
  reviewAll,
  setState,
  yamlPolicy,
} from './fixtures.js';

const MATCHERS_SEED = `
kind: role
metadata: {name: globber}
spec:
  allow:
    request:
      roles: ['db-*', '^ops-(blue|green)$', '{{regexp.match("^prod-")}}']
---
kind: role
metadata: {name: not-admin}
spec:
  allow:
    request:
      roles: ['{{regexp.not_match("admin")}}']
---
kind: role
metadata: {name: all-but-admin}
spec:
  allow:
    request: {roles: ['*']}
  deny:
    request: {roles: [admin]}
---
kind: role
metadata: {name: claims}
spec:
  allow:
    request:
      claims_to_roles:
        - {claim: groups, value: 'eng-*', roles: [oncall]}
        - {claim: groups, value: '^team-(.*)$', roles: ['$1-access']}
${[
  'db-read',
  'ops-blue',
  'ops-red',
  'prod-db',
  'web',
  'reader',
  'super-admin',
  'admin',
  'oncall',
  'web-access',
]
  .map((n) => `---\nkind: role\nmetadata: {name: ${n}}\nspec: {}\n`)
  .join('')}
---
kind: user
metadata: {name: u-glob}
spec: {roles: [globber]}
---
kind: user
metadata: {name: u-notadmin}
spec: {roles: [not-admin]}
---
kind: user
metadata: {name: u-deny}
spec: {roles: [all-but-admin]}
---
kind: user
metadata: {name: u-claims}
spec:
  roles: [claims]
  traits: {groups: [eng-oncall, team-web]}
---
kind: user
metadata: {name: u-noclaims}
spec:
  roles: [claims]
  traits: {groups: [sales]}
`;

const REVIEW_SEED = `
kind: role
metadata: {name: viewer}
spec: {}
---
kind: role
metadata: {name: ops}
spec: {}
---
kind: role
metadata: {name: requester}
spec:
  allow:
    request: {roles: [viewer, ops]}
---
kind: role
metadata: {name: partial-reviewer}
spec:
  allow:
    review_requests: {roles: [viewer]}
---
kind: role
metadata: {name: deny-reviewer}
spec:
  allow:
    review_requests: {roles: ['*']}
  deny:
    review_requests: {roles: [ops]}
---
kind: role
metadata: {name: imp-admin}
spec:
  allow:
    impersonate: {users: ['*'], roles: ['*']}
  deny:
    impersonate: {users: [root-user], roles: [no-such-role]}
---
kind: user
metadata: {name: req}
spec: {roles: [requester]}
---
kind: user
metadata: {name: partial}
spec: {roles: [partial-reviewer]}
---
kind: user
metadata: {name: denyrev}
spec: {roles: [deny-reviewer]}
---
kind: user
metadata: {name: imp}
spec: {roles: [imp-admin]}
---
kind: user
metadata: {name: root-user}
spec: {roles: [viewer]}
`;

const LONG_SEED = `
kind: role
metadata: {name: long-requester}
spec:
  allow:
    request:
      roles: [long]
      max_duration: 336h
      annotations:
        team: ['{{internal.team}}']
        static: [fixed]
        missing: ['{{internal.nope}}']
---
kind: role
metadata: {name: long}
spec:
  options: {max_session_ttl: 24h}
---
kind: user
metadata: {name: lu}
spec:
  roles: [long-requester]
  traits: {team: [platform, sre]}
`;

const FILTER_SEED = `
kind: role
metadata: {name: filtered-requester}
spec:
  allow:
    request:
      roles: [target]
      thresholds:
        - {name: senior, filter: 'contains(reviewer.roles, "senior")', approve: 1, deny: 1}
---
kind: role
metadata: {name: target}
spec: {}
---
kind: role
metadata: {name: senior}
spec:
  allow:
    review_requests: {roles: ['*']}
---
kind: role
metadata: {name: junior}
spec:
  allow:
    review_requests: {roles: ['*']}
---
kind: user
metadata: {name: rq}
spec: {roles: [filtered-requester]}
---
kind: user
metadata: {name: sen}
spec: {roles: [senior]}
---
kind: user
metadata: {name: jun}
spec: {roles: [junior]}
`;

interface Case {
  name: string;
  seed?: string;
  run(p: Policy): unknown;
  /** 0 when the call succeeds. */
  code: number;
  message?: string[];
  check?(result: never, p: Policy): void;
}

const reason = { requestReason: 'ticket 42' };
const spec = (r: unknown) => (r as AccessRequestV3).spec!;

const cases: Case[] = [
  {
    name: 'review reason over 4096 bytes refused',
    run: (p) =>
      p.applyReview(
        caller(p, 'bob'),
        create(p, 'alice', ['dba'], reason),
        review(RequestState.APPROVED, { reason: 'x'.repeat(4097) }),
        NOW,
      ),
    code: 3,
    message: ['access review reason is too long, max 4096 bytes'],
  },
  {
    name: 'own-request review refused',
    run: (p) =>
      p.applyReview(caller(p, 'alice'), create(p, 'alice', ['auditor']), review(RequestState.APPROVED), NOW),
    code: 7,
    message: ['user "alice" cannot review request'],
  },
  {
    name: 'deny.request wins over allow.request',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-deny', ['admin']),
    code: 3,
    message: ['user "u-deny" can not request role "admin"'],
  },
  {
    name: 'allow * still grants roles deny does not name',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-deny', ['web']),
    code: 0,
    check: (r) => expect(spec(r).roles).toEqual(['web']),
  },
  {
    name: 'glob matcher allows db-read',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-glob', ['db-read']),
    code: 0,
    check: (r) => expect(spec(r).state).toBe(RequestState.PENDING),
  },
  {
    name: 'glob matcher refuses a role outside it',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-glob', ['web']),
    code: 3,
    message: ['user "u-glob" can not request role "web"'],
  },
  {
    name: '^regex$ matcher allows ops-blue',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-glob', ['ops-blue']),
    code: 0,
    check: (r) => expect(spec(r).roles).toEqual(['ops-blue']),
  },
  {
    name: '^regex$ matcher refuses ops-red',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-glob', ['ops-red']),
    code: 3,
    message: ['can not request role "ops-red"'],
  },
  {
    name: 'regexp.match allows prod-db',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-glob', ['prod-db']),
    code: 0,
    check: (r) => expect(spec(r).roles).toEqual(['prod-db']),
  },
  {
    name: 'regexp.not_match allows reader',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-notadmin', ['reader']),
    code: 0,
    check: (r) => expect(spec(r).roles).toEqual(['reader']),
  },
  {
    name: 'regexp.not_match refuses super-admin',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-notadmin', ['super-admin']),
    code: 3,
    message: ['user "u-notadmin" can not request role "super-admin"'],
  },
  {
    name: 'claims_to_roles grants oncall from a glob-matched trait',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-claims', ['oncall']),
    code: 0,
    check: (r) => expect(spec(r).roles).toEqual(['oncall']),
  },
  {
    name: 'claims_to_roles substitutes a regexp capture',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-claims', ['web-access']),
    code: 0,
    check: (r) => expect(spec(r).roles).toEqual(['web-access']),
  },
  {
    name: 'claims_to_roles grants nothing without the trait',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-noclaims', ['oncall']),
    code: 3,
    message: ['user "u-noclaims" can not request role "oncall"'],
  },
  {
    name: 'reason required by reason.mode, prompt in the message',
    run: (p) => create(p, 'alice', ['dba']),
    code: 3,
    message: [
      'request reason must be specified (required for role "dba")',
      'prompt: Describe the change or incident and give its ticket ID',
    ],
  },
  {
    name: 'reason required by options.request_access: reason',
    run: (p) => create(p, 'dave', ['auditor']),
    code: 3,
    message: [
      'request reason must be specified (required request_access option in one of the roles)',
      'prompt: Contractors',
    ],
  },
  {
    name: 'reason of 4097 bytes refused',
    run: (p) => create(p, 'alice', ['auditor'], { requestReason: `${'é'.repeat(2048)}x` }),
    code: 3,
    message: ['access request reason is too long, max 4096 bytes'],
  },
  {
    name: 'more than 300 resources refused',
    run: (p) =>
      create(p, 'alice', [], {
        requestedResourceIds: resourceIds(...Array.from({ length: 301 }, (_, i) => `/${CLUSTER}/node/n${i}`)),
      }),
    code: 3,
    message: ['access request contains too many resources (301), max 300'],
  },
  {
    name: 'threshold 2: one approval keeps dba PENDING, the second approves',
    run: (p) => {
      const req = create(p, 'alice', ['dba'], reason);
      const afterBob = reviewAll(p, req, [['bob', RequestState.APPROVED]]);
      expect(afterBob.spec!.state).toBe(RequestState.PENDING);
      return reviewAll(p, afterBob, [['carol', RequestState.APPROVED]]);
    },
    code: 0,
    check: (r) => {
      expect(spec(r).state).toBe(RequestState.APPROVED);
      expect(spec(r).resolveReason).toBe('carol says so');
      expect(spec(r).reviews.map((x) => x.author)).toEqual(['bob', 'carol']);
    },
  },
  {
    name: 'same reviewer twice refused',
    run: (p) => {
      const req = reviewAll(p, create(p, 'alice', ['dba'], reason), [['bob', RequestState.APPROVED]]);
      return reviewAll(p, req, [['bob', RequestState.APPROVED]]);
    },
    code: 7,
    message: ['user "bob" has already reviewed this request'],
  },
  {
    name: 'one denial reaches the deny threshold',
    run: (p) => reviewAll(p, create(p, 'alice', ['dba'], reason), [['bob', RequestState.DENIED]]),
    code: 0,
    check: (r) => {
      expect(spec(r).state).toBe(RequestState.DENIED);
      expect(spec(r).resolveReason).toBe('bob says so');
    },
  },
  {
    name: 'threshold filter counts only the reviews it matches',
    seed: FILTER_SEED,
    run: (p) => {
      const afterJunior = reviewAll(p, create(p, 'rq', ['target']), [['jun', RequestState.APPROVED]]);
      expect(afterJunior.spec!.state).toBe(RequestState.PENDING);
      expect(afterJunior.spec!.reviews[0].thresholdIndexes).toEqual([]);
      return reviewAll(p, afterJunior, [['sen', RequestState.APPROVED]]);
    },
    code: 0,
    check: (r) => {
      expect(spec(r).state).toBe(RequestState.APPROVED);
      expect(spec(r).reviews[1].thresholdIndexes).toEqual([0]);
    },
  },
  {
    name: 'requesting a role that does not exist is NotFound',
    seed: MATCHERS_SEED,
    run: (p) => create(p, 'u-deny', ['ghost']),
    code: 5,
    message: ['role "ghost" is not found'],
  },
  {
    name: 'APPROVED to DENIED is allowed',
    run: (p) =>
      setState(
        p,
        reviewAll(p, create(p, 'alice', ['auditor']), [['bob', RequestState.APPROVED]]),
        RequestState.DENIED,
        { reason: 'revoked' },
      ),
    code: 0,
    check: (r) => {
      expect(spec(r).state).toBe(RequestState.DENIED);
      expect(spec(r).resolveReason).toBe('revoked');
    },
  },
  {
    name: 'DENIED to APPROVED is refused',
    run: (p) =>
      setState(p, setState(p, create(p, 'alice', ['auditor']), RequestState.DENIED), RequestState.APPROVED),
    code: 3,
    message: ['cannot set request-state "APPROVED" (already denied)'],
  },
  {
    name: 'approve with a subset of the roles narrows the request',
    run: (p) =>
      setState(p, create(p, 'alice', ['auditor', 'dba'], reason), RequestState.APPROVED, {
        roles: ['auditor'],
        delegator: 'slack:carol',
        annotations: { ticket: ['T-1'] },
      }),
    code: 0,
    check: (r) => {
      expect(spec(r).roles).toEqual(['auditor']);
      expect(Object.keys(spec(r).roleThresholdMapping).sort()).toEqual(['auditor', 'dba']);
      expect(fromLabelValues(spec(r).resolveAnnotations)).toEqual({
        ticket: ['T-1'],
        delegator: ['slack:carol'],
      });
      expect((r as AccessRequestV3).metadata!.expires).toEqual(spec(r).expires);
    },
  },
  {
    name: 'approve with roles outside the request refused',
    run: (p) => setState(p, create(p, 'alice', ['auditor']), RequestState.APPROVED, { roles: ['dba'] }),
    code: 3,
    message: ['role "dba" not in original request, overrides must be a subset of original role list'],
  },
  {
    name: 'roles override only on approval',
    run: (p) => setState(p, create(p, 'alice', ['auditor']), RequestState.DENIED, { roles: ['auditor'] }),
    code: 3,
    message: ['cannot override roles when setting state: DENIED'],
  },
  {
    name: 'resource outside search_as_roles refused',
    run: (p) =>
      create(p, 'alice', [], { requestedResourceIds: resourceIds(`/local/node/${NODE_PROD}`), ...reason }),
    code: 7,
    message: [`user "alice" can not request resource "/local/node/${NODE_PROD}"`],
  },
  {
    name: 'resource inside search_as_roles allowed, roles resolved',
    run: (p) => create(p, 'alice', [], { requestedResourceIds: resourceIds(`/local/node/${NODE_DEV}`) }),
    code: 0,
    check: (r) => {
      expect(spec(r).roles).toEqual(['resource-access']);
      expect(spec(r).requestedResourceIds).toEqual(resourceIds(`/local/node/${NODE_DEV}`));
      expect(spec(r).thresholds).toEqual([{ name: 'default', filter: '', approve: 1, deny: 1 }]);
    },
  },
  {
    name: 'unknown resource is NotFound',
    run: (p) => create(p, 'alice', [], { requestedResourceIds: resourceIds('/local/node/nope') }),
    code: 5,
    message: ['resource "/local/node/nope" not found'],
  },
  {
    name: 'resource of another cluster is NotFound',
    run: (p) => create(p, 'alice', [], { requestedResourceIds: resourceIds(`/leaf/node/${NODE_DEV}`) }),
    code: 5,
    message: ['access request contains invalid or unknown cluster names: leaf'],
  },
  {
    name: 'non-admin sees own and reviewable requests only',
    run: (p) => {
      const daves = create(p, 'dave', ['auditor'], reason);
      const alices = create(p, 'alice', ['auditor']);
      return {
        aliceSeesDave: p.canSee(caller(p, 'alice'), daves),
        aliceSeesOwn: p.canSee(caller(p, 'alice'), alices),
        bobSeesDave: p.canSee(caller(p, 'bob'), daves),
        daveSeesAlice: p.canSee(caller(p, 'dave'), alices),
      };
    },
    code: 0,
    check: (r) =>
      expect(r).toEqual({
        aliceSeesDave: false,
        aliceSeesOwn: true,
        bobSeesDave: true,
        daveSeesAlice: false,
      }),
  },
  {
    name: 'admin and plugin (list+read rules) see every request',
    run: (p) => {
      const req = create(p, 'dave', ['auditor'], reason);
      return [
        p.canSee(caller(p, 'admin'), req),
        p.canSee(caller(p, 'access-plugin'), req),
        p.allows(caller(p, 'access-plugin'), 'delete'),
      ];
    },
    code: 0,
    check: (r) => expect(r).toEqual([true, true, false]),
  },
  {
    name: 'review refused when review_requests does not cover every role',
    seed: REVIEW_SEED,
    run: (p) => {
      const req = create(p, 'req', ['ops', 'viewer']);
      expect(p.canReview(caller(p, 'partial'), create(p, 'req', ['viewer']))).toBe(true);
      return p.applyReview(caller(p, 'partial'), req, review(RequestState.APPROVED), NOW);
    },
    code: 7,
    message: ['user "partial" cannot review request'],
  },
  {
    name: 'deny.review_requests wins over allow *',
    seed: REVIEW_SEED,
    run: (p) => [
      p.canReview(caller(p, 'denyrev'), create(p, 'req', ['viewer'])),
      p.canReview(caller(p, 'denyrev'), create(p, 'req', ['ops'])),
    ],
    code: 0,
    check: (r) => expect(r).toEqual([true, false]),
  },
  {
    name: 'review of an approved request refused',
    run: (p) => {
      const approved = reviewAll(p, create(p, 'alice', ['auditor']), [['bob', RequestState.APPROVED]]);
      expect(approved.spec!.state).toBe(RequestState.APPROVED);
      return reviewAll(p, approved, [['carol', RequestState.DENIED]]);
    },
    code: 7,
    message: ['the access request has been already approved'],
  },
  {
    name: 'review of a denied request refused',
    run: (p) => {
      const denied = setState(p, create(p, 'alice', ['auditor']), RequestState.DENIED);
      return reviewAll(p, denied, [['carol', RequestState.APPROVED]]);
    },
    code: 7,
    message: ['the access request has been already denied'],
  },
  {
    name: 'review naming a role outside the request refused',
    run: (p) =>
      p.applyReview(
        caller(p, 'bob'),
        create(p, 'alice', ['auditor']),
        review(RequestState.APPROVED, { roles: ['dba'] }),
        NOW,
      ),
    code: 3,
    message: ['role "dba" is not a member of this request'],
  },
  {
    name: 'impersonation allowed by impersonate users/roles *',
    run: (p) => [
      p.canImpersonate(caller(p, 'admin'), 'alice'),
      p.canImpersonate(caller(p, 'admin'), 'nobody'),
    ],
    code: 0,
    check: (r) => expect(r).toEqual([true, false]),
  },
  {
    name: 'impersonation denied without a rule and by deny.impersonate',
    seed: REVIEW_SEED,
    run: (p) => [
      p.canImpersonate(caller(p, 'partial'), 'req'),
      p.canImpersonate(caller(p, 'imp'), 'req'),
      p.canImpersonate(caller(p, 'imp'), 'root-user'),
    ],
    code: 0,
    check: (r) => expect(r).toEqual([false, true, false]),
  },
  {
    name: 'capabilities of alice',
    run: (p) =>
      p.capabilities(caller(p, 'alice'), {
        user: '',
        requestableRoles: true,
        suggestedReviewers: true,
        resourceIds: [`/local/node/${NODE_DEV}`],
      }),
    code: 0,
    check: (r) =>
      expect(r).toEqual({
        requestableRoles: ['auditor', 'dba'],
        suggestedReviewers: ['bob', 'carol'],
        applicableRolesForResources: ['resource-access'],
        requestPrompt: 'Describe the change or incident and give its ticket ID',
        requireReason: true,
        autoRequest: false,
      }),
  },
  {
    name: 'capabilities of dave: always a reason, auto-request',
    run: (p) =>
      p.capabilities(caller(p, 'dave'), {
        user: '',
        requestableRoles: true,
        suggestedReviewers: false,
        resourceIds: [],
      }),
    code: 0,
    check: (r) =>
      expect(r).toMatchObject({
        requestableRoles: ['auditor'],
        suggestedReviewers: [],
        requireReason: true,
        autoRequest: true,
      }),
  },
  {
    name: 'capabilities of another user need the user read rule',
    run: (p) =>
      p.capabilities(caller(p, 'bob'), {
        user: 'alice',
        requestableRoles: true,
        suggestedReviewers: false,
        resourceIds: [],
      }),
    code: 7,
    message: ['access denied to perform action "read" on "user"'],
  },
  {
    name: 'max_duration above 14 days refused',
    run: (p) => create(p, 'alice', ['auditor'], { maxDuration: new Date(NOW.getTime() + 15 * DAY) }),
    code: 3,
    message: ['max_duration must be less than or equal to 336h0m0s'],
  },
  {
    name: 'max_duration capped by the role max_duration',
    run: (p) => create(p, 'alice', ['auditor'], { maxDuration: new Date(NOW.getTime() + 7 * DAY) }),
    code: 0,
    check: (r) => {
      expect(spec(r).expires).toEqual(new Date(NOW.getTime() + 8 * HOUR));
      expect(spec(r).maxDuration).toEqual(new Date(NOW.getTime() + 8 * HOUR));
      expect(spec(r).sessionTtl).toEqual(new Date(NOW.getTime() + 8 * HOUR));
    },
  },
  {
    name: 'max_duration of 14 days grants 14 days of access with 12h sessions',
    seed: LONG_SEED,
    run: (p) => create(p, 'lu', ['long'], { maxDuration: new Date(NOW.getTime() + 14 * DAY) }),
    code: 0,
    check: (r) => {
      expect(spec(r).expires).toEqual(new Date(NOW.getTime() + 14 * DAY));
      expect(spec(r).sessionTtl).toEqual(new Date(NOW.getTime() + 12 * HOUR));
      expect((r as AccessRequestV3).metadata!.expires).toEqual(new Date(NOW.getTime() + 7 * DAY));
    },
  },
  {
    name: 'assume start time more than 7 days after creation refused',
    seed: LONG_SEED,
    run: (p) =>
      create(p, 'lu', ['long'], {
        maxDuration: new Date(NOW.getTime() + 14 * DAY),
        assumeStartTime: new Date(NOW.getTime() + 8 * DAY),
      }),
    code: 3,
    message: ['assume start time is too far in the future, latest time allowed is 2026-03-09T10:00:00Z'],
  },
  {
    name: 'assume start time after the access expiry refused',
    run: (p) => create(p, 'alice', ['auditor'], { assumeStartTime: new Date(NOW.getTime() + 9 * HOUR) }),
    code: 3,
    message: ['assume start time must be prior to access expiry time at 2026-03-02T18:00:00Z'],
  },
  {
    name: 'roles * expands to every requestable role',
    run: (p) => create(p, 'alice', ['*'], reason),
    code: 0,
    check: (r) => {
      expect(spec(r).roles).toEqual(['auditor', 'dba']);
      expect(spec(r).thresholds.map((t) => t.name)).toEqual(['default', 'two-dba-approvals']);
      expect(spec(r).roleThresholdMapping).toEqual({
        auditor: { sets: [{ indexes: [0] }] },
        dba: { sets: [{ indexes: [0] }, { indexes: [1] }] },
      });
    },
  },
  {
    name: 'roles * with nothing requestable refused',
    run: (p) => create(p, 'bob', ['*']),
    code: 3,
    message: ['no requestable roles, please verify static RBAC configuration'],
  },
  {
    name: 'annotations interpolate {{external.*}} and {{internal.*}} traits',
    run: (p) => create(p, 'alice', ['auditor']),
    code: 0,
    check: (r) => {
      expect(fromLabelValues(spec(r).systemAnnotations)).toEqual({
        team: ['dev'],
        'requested-login': ['alice'],
      });
      expect(spec(r).suggestedReviewers).toEqual(['bob', 'carol']);
    },
  },
  {
    name: 'annotation with {{internal.team}} expands each value, missing traits dropped',
    seed: LONG_SEED,
    run: (p) => create(p, 'lu', ['long']),
    code: 0,
    check: (r) =>
      expect(fromLabelValues(spec(r).systemAnnotations)).toEqual({
        team: ['platform', 'sre'],
        static: ['fixed'],
      }),
  },
  {
    name: 'kube_resource visible through kubernetes_resources (dev pods only)',
    run: (p) =>
      p
        .searchResources(caller(p, 'alice'), {
          kind: 'kube_resource',
          useSearchAsRoles: true,
          keywords: [],
          labels: {},
          predicate: '',
          kubeCluster: 'demo-kube',
        })
        .map((r) => `${r.namespace}/${r.name}`),
    code: 0,
    check: (r) => expect(r).toEqual(['dev/web-7d9f8', 'dev/worker-5c4b2']),
  },
  {
    name: 'kube_resource in a namespace kubernetes_resources excludes refused',
    run: (p) =>
      create(p, 'alice', [], {
        requestedResourceIds: resourceIds('/local/kube:ns:pods/demo-kube/prod/api-6f7a1'),
      }),
    code: 7,
    message: ['user "alice" can not request resource "/local/kube:ns:pods/demo-kube/prod/api-6f7a1"'],
  },
  {
    name: 'legacy pod resource ID is normalized and allowed',
    run: (p) =>
      create(p, 'alice', [], { requestedResourceIds: resourceIds('/local/pod/demo-kube/dev/web-7d9f8') }),
    code: 0,
    check: (r) => {
      expect(spec(r).roles).toEqual(['resource-access']);
      expect(spec(r).requestedResourceIds[0].kind).toBe('kube:ns:pods');
    },
  },
  {
    name: 'saml_idp_service_provider needs app_labels and the list verb on the kind',
    run: (p) => {
      const query = { kind: 'saml_idp_service_provider' as const, keywords: [], labels: {}, predicate: '' };
      const names = (c: ReturnType<typeof caller>, useSearchAsRoles: boolean) =>
        p.searchResources(c, { ...query, useSearchAsRoles }).map((r) => r.name);
      return {
        searchAsRoles: names(caller(p, 'alice'), true),
        ownRoles: names(caller(p, 'alice'), false),
        // auditor: app_labels '*' but no rule for the kind.
        appLabelsOnly: names(caller(p, 'alice', { roles: ['auditor'] }), false),
      };
    },
    code: 0,
    check: (r) => expect(r).toEqual({ searchAsRoles: ['grafana-saml'], ownRoles: [], appLabelsOnly: [] }),
  },
  {
    name: 'predicate search with labels, ||, search()',
    run: (p) =>
      p
        .searchResources(caller(p, 'alice'), {
          kind: 'node',
          useSearchAsRoles: true,
          keywords: [],
          labels: {},
          predicate: 'labels["env"] == "dev" || search("STAGING")',
        })
        .map((r) => r.name),
    code: 0,
    check: (r) => expect(r).toEqual([NODE_STAGING, NODE_DEV]),
  },
  {
    name: 'unsupported predicate function is InvalidArgument',
    run: (p) =>
      p.searchResources(caller(p, 'alice'), {
        kind: 'node',
        useSearchAsRoles: true,
        keywords: [],
        labels: {},
        predicate: 'name == "x" || split(name, "-")',
      }),
    code: 3,
    message: ['unsupported function "split" at position 15 in predicate'],
  },
  {
    name: 'without search_as_roles alice sees no nodes',
    run: (p) =>
      p.searchResources(caller(p, 'alice'), {
        kind: 'node',
        useSearchAsRoles: false,
        keywords: [],
        labels: {},
        predicate: '',
      }),
    code: 0,
    check: (r) => expect(r).toEqual([]),
  },
  {
    name: 'a certificate with allowed resource IDs lists only those resources',
    run: (p) => {
      const c = caller(p, 'alice', {
        roles: ['requester', 'dba-requester', 'resource-access'],
        allowedResourceIds: [`/local/node/${NODE_DEV}`],
      });
      const query = { kind: 'node' as const, keywords: [], labels: {}, predicate: '' };
      return [
        p.searchResources(c, { ...query, useSearchAsRoles: false }).map((r) => r.name),
        p.searchResources(c, { ...query, useSearchAsRoles: true }).map((r) => r.name),
      ];
    },
    code: 0,
    check: (r) => expect(r).toEqual([[NODE_DEV], [NODE_STAGING, NODE_DEV]]),
  },
  {
    name: 'request TTL longer than the access expiry refused',
    run: (p) =>
      p.prepareCreate(
        caller(p, 'alice'),
        request('alice', ['auditor'], {}, { expires: new Date(NOW.getTime() + 9 * HOUR) }),
        NOW,
      ),
    code: 3,
    message: ['invalid request TTL: 9h0m0s greater than maximum allowed (8h0m0s)'],
  },
  {
    name: 'creating for another user needs the create rule',
    run: (p) => p.prepareCreate(caller(p, 'bob'), request('alice', ['auditor']), NOW),
    code: 7,
    message: ['access denied to perform action "create" on "access_request"'],
  },
  {
    name: 'admin creates for alice with her rules',
    run: (p) => p.prepareCreate(caller(p, 'admin'), request('alice', ['auditor']), NOW),
    code: 0,
    check: (r) => {
      expect(spec(r).user).toBe('alice');
      expect(fromLabelValues(spec(r).systemAnnotations).team).toEqual(['dev']);
    },
  },
  {
    name: 'certificate grant adds approved roles and caps the expiry',
    run: (p) => {
      const approved = reviewAll(p, create(p, 'alice', ['auditor']), [['bob', RequestState.APPROVED]]);
      return p.certificateGrant('alice', [approved], new Date(NOW.getTime() + HOUR));
    },
    code: 0,
    check: (r) =>
      expect(r).toEqual({
        roles: ['requester', 'dba-requester', 'auditor'],
        allowedResourceIds: [],
        traits: { logins: ['alice'], team: ['dev'] },
        maxExpires: new Date(NOW.getTime() + 8 * HOUR),
      }),
  },
  {
    name: 'certificate grant of a resource request carries its resource IDs',
    run: (p) => {
      const req = create(p, 'alice', [], { requestedResourceIds: resourceIds(`/local/node/${NODE_DEV}`) });
      const approved = reviewAll(p, req, [['carol', RequestState.APPROVED]]);
      return p.certificateGrant('alice', [approved], NOW).allowedResourceIds;
    },
    code: 0,
    check: (r) => expect(r).toEqual([`/local/node/${NODE_DEV}`]),
  },
  {
    name: 'certificate grant refuses a pending request',
    run: (p) => p.certificateGrant('alice', [create(p, 'alice', ['auditor'])], NOW),
    code: 7,
    message: ['is awaiting approval'],
  },
];

describe('policy rules (table)', () => {
  it('has at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));

  for (const c of cases) {
    it(c.name, () => {
      const p = c.seed ? yamlPolicy(c.seed) : demoPolicy();
      let result: unknown;
      let error: unknown;
      try {
        result = c.run(p);
      } catch (err) {
        error = err;
      }
      if (c.code === 0) {
        expect(error).toBeUndefined();
        c.check?.(result as never, p);
      } else {
        expect(error).toBeInstanceOf(ServerError);
        expect((error as ServerError).code).toBe(c.code);
        for (const fragment of c.message ?? []) expect((error as ServerError).message).toContain(fragment);
      }
    });
  }
});

describe('prepareCreate output', () => {
  it('completes a role request the way Teleport stores it', () => {
    const p = demoPolicy();
    const req = create(p, 'alice', ['dba', 'dba'], { requestReason: 'INC-7', suggestedReviewers: ['dave'] });
    expect(req.kind).toBe('access_request');
    expect(req.version).toBe('v3');
    expect(req.metadata!.name).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(req.metadata!.namespace).toBe('default');
    const s = req.spec!;
    expect(s.roles).toEqual(['dba']);
    expect(s.state).toBe(RequestState.PENDING);
    expect(s.created).toEqual(NOW);
    expect(s.suggestedReviewers).toEqual(['dave', 'bob', 'carol']);
    // dba's max_session_ttl (4h) is stricter than requester's max_duration (8h): 4h sessions, 8h access.
    expect(s.sessionTtl).toEqual(new Date(NOW.getTime() + 4 * HOUR));
    expect(s.expires).toEqual(new Date(NOW.getTime() + 8 * HOUR));
    expect(req.metadata!.expires).toEqual(new Date(NOW.getTime() + 8 * HOUR));
    expect(s.thresholds).toEqual([
      { name: 'default', filter: '', approve: 1, deny: 1 },
      { name: 'two-dba-approvals', filter: '', approve: 2, deny: 1 },
    ]);
  });

  it('keeps an ID the runtime passes and refuses one that is not a UUID', () => {
    const p = demoPolicy();
    const id = '0193c1e2-0000-7000-8000-000000000001';
    const req = p.prepareCreate(caller(p, 'alice'), request('alice', ['auditor'], {}, { name: id }), NOW);
    expect(req.metadata!.name).toBe(id);
    expect(() =>
      p.prepareCreate(caller(p, 'alice'), request('alice', ['auditor'], {}, { name: 'x' }), NOW),
    ).toThrow('invalid access request ID "x"');
  });

  it('does not modify its input', () => {
    const p = demoPolicy();
    const input = request('alice', ['auditor']);
    const before = structuredClone(input);
    const created = p.prepareCreate(caller(p, 'alice'), input, NOW);
    expect(input).toEqual(before);
    const reviewed = reviewAll(p, created, [['bob', RequestState.APPROVED]]);
    expect(created.spec!.state).toBe(RequestState.PENDING);
    expect(created.spec!.reviews).toEqual([]);
    expect(reviewed.spec!.state).toBe(RequestState.APPROVED);
  });

  it('caps the access expiry by the caller certificate', () => {
    const p = demoPolicy();
    const req = p.prepareCreate(
      caller(p, 'alice', { expires: new Date(NOW.getTime() + 2 * HOUR) }),
      request('alice', ['auditor']),
      NOW,
    );
    expect(req.spec!.expires).toEqual(new Date(NOW.getTime() + 8 * HOUR));
    expect(req.spec!.sessionTtl).toEqual(new Date(NOW.getTime() + 2 * HOUR));
  });
});
