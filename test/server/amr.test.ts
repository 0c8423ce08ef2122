import { randomUUID } from 'node:crypto';
/**
 * Access Monitoring Rules in the embedded server (issue 14): the service with Teleport's
 * verbs, durable storage, condition errors with positions, and the builtin automatic review
 * of RFD 0201 (bot author, DENIED wins, thresholds apply).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessMonitoringRule } from '../../src/gen/teleport/accessmonitoringrules/v1/access_monitoring_rules.js';
import { Watch } from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import {
  AccessRequestFilter,
  AccessRequestV3,
  AccessReview,
  RequestState,
} from '../../src/gen/teleport/legacy/types/types.js';
import { MAX_CONDITION_LENGTH } from '../../src/model/limits.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { connectIdentity, failure, StreamQueue, type TestClient } from '../helpers/grpc.js';

function rule(
  name: string,
  condition: string,
  extra: Partial<NonNullable<AccessMonitoringRule['spec']>> = {},
): AccessMonitoringRule {
  return {
    kind: 'access_monitoring_rule',
    subKind: '',
    version: 'v1',
    metadata: { name, namespace: '', description: '', labels: {}, expires: undefined, revision: '' },
    spec: {
      subjects: ['access_request'],
      states: [],
      condition,
      notification: { name: 'webhook', recipients: ['https://example.com/hook'] },
      automaticReview: undefined,
      desiredState: '',
      schedules: {},
      ...extra,
    },
  };
}

function unary<Q, R>(client: object, method: string, req: Q): Promise<R> {
  return new Promise((resolve, reject) => {
    (client as Record<string, (q: Q, cb: (e: ServiceError | null, r: R) => void) => void>)[method](
      req,
      (e, r) => (e ? reject(e) : resolve(r)),
    );
  });
}

let dir: string;
let server: RunningServer;
/** The server's clock: real time unless a test pins it (identities are issued at real time). */
let pinned: Date | undefined;
const start = () => startServer({ dataDir: dir, listen: '127.0.0.1:0', now: () => pinned ?? new Date() });
let admin: TestClient;
let alice: TestClient;

async function connect(): Promise<void> {
  admin = await connectIdentity(server.addr, server.identityPath('admin'));
  alice = await connectIdentity(server.addr, server.identityPath('alice'));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-amr-'));
  server = await start();
  await connect();
});

afterAll(async () => {
  admin.close();
  alice.close();
  await server.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
});

const create = (c: TestClient, r: AccessMonitoringRule) =>
  unary<unknown, AccessMonitoringRule>(c.amr, 'createAccessMonitoringRule', { rule: r });
const list = (c: TestClient) =>
  unary<unknown, { rules: AccessMonitoringRule[]; nextPageToken: string }>(
    c.amr,
    'listAccessMonitoringRules',
    {
      pageSize: 0,
      pageToken: '',
    },
  );
const del = (c: TestClient, name: string) => unary(c.amr, 'deleteAccessMonitoringRule', { name });

describe('AccessMonitoringRulesService', () => {
  it('creates, gets, updates, lists and deletes with the access_monitoring_rule verbs', async () => {
    const created = await create(admin, rule('route-dba', 'access_request.spec.roles.contains("dba")'));
    expect(created.metadata?.name).toBe('route-dba');
    expect(
      (await failure(create(admin, rule('route-dba', 'true')))).code,
      'a second create of the same name',
    ).toBe(6);
    const got = await unary<unknown, AccessMonitoringRule>(admin.amr, 'getAccessMonitoringRule', {
      name: 'route-dba',
    });
    expect(got.spec?.condition).toBe('access_request.spec.roles.contains("dba")');
    await unary(admin.amr, 'updateAccessMonitoringRule', {
      rule: rule('route-dba', 'contains_any(access_request.spec.roles, set("dba", "auditor"))'),
    });
    expect((await list(admin)).rules.map((r) => [r.metadata?.name, r.spec?.condition])).toEqual([
      ['route-dba', 'contains_any(access_request.spec.roles, set("dba", "auditor"))'],
    ]);
    const filtered = await unary<unknown, { rules: AccessMonitoringRule[] }>(
      admin.amr,
      'listAccessMonitoringRulesWithFilter',
      {
        pageSize: 0,
        pageToken: '',
        subjects: ['access_request'],
        notificationName: 'slack',
        automaticReviewName: '',
      },
    );
    expect(filtered.rules).toEqual([]);
    await del(admin, 'route-dba');
    expect((await failure(del(admin, 'route-dba'))).code).toBe(5);
  });

  it('refuses a requester (no access_monitoring_rule rules) with Teleport message', async () => {
    expect(await failure(create(alice, rule('mine', 'true')))).toEqual({
      code: 7,
      details: 'access denied to perform action "create" on "access_monitoring_rule"',
    });
    expect((await failure(list(alice))).details).toBe(
      'access denied to perform action "read" on "access_monitoring_rule"',
    );
  });

  it("refuses a bad condition with the parser's text (ValidateAccessMonitoringRule) and stores nothing", async () => {
    expect(await failure(create(admin, rule('bad', 'access_request.spec.roles.contains("dba"')))).toEqual({
      code: 3,
      details:
        "accessMonitoringRule condition is invalid: parsing expression\n\t1:41: missing ',' before newline in argument list",
    });
    expect((await failure(create(admin, rule('bad', 'user.trait["team"].contains("x")')))).details).toBe(
      'accessMonitoringRule condition is invalid: parsing expression\n\tunknown identifier: "user.trait"',
    );
    expect((await list(admin)).rules).toEqual([]);
  });

  it('delivers rule changes on the watch stream to a caller with read, refuses one without', async () => {
    const watch = Watch.fromPartial({ kinds: [{ kind: 'access_monitoring_rule', filter: {} }] });
    const q = new StreamQueue(admin.auth.watchEvents(watch));
    try {
      expect((await q.next()).resource?.$case).toBe('watchStatus');
      await create(admin, rule('watched', 'true'));
      const put = await q.next();
      expect(put.resource?.$case === 'accessMonitoringRule' && put.resource.value.metadata?.name).toBe(
        'watched',
      );
      await del(admin, 'watched');
      const gone = await q.next();
      expect(
        gone.resource?.$case === 'resourceHeader' && [
          gone.resource.value.kind,
          gone.resource.value.metadata?.name,
        ],
      ).toEqual(['access_monitoring_rule', 'watched']);
    } finally {
      q.stream.cancel();
    }
    const refused = new StreamQueue(alice.auth.watchEvents(watch));
    const err = await refused.next().then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect([err?.code, err?.details]).toEqual([
      7,
      'access denied to perform action "read" on "access_monitoring_rule"',
    ]);
  });

  describe('ValidateAccessMonitoringRule (lib/services/access_monitoring_rules.go): texts and scope', () => {
    const withSpec = (extra: Partial<NonNullable<AccessMonitoringRule['spec']>>) => rule('v', 'true', extra);
    const cases: [string, AccessMonitoringRule, string][] = [
      [
        'version',
        { ...rule('v', 'true'), version: 'v2' },
        'accessMonitoringRule version "v2" is not supported',
      ],
      [
        'decision missing',
        withSpec({ automaticReview: { integration: 'builtin', decision: '' } }),
        'accessMonitoringRule automatic_review decision is missing',
      ],
      [
        'decision unknown',
        withSpec({ automaticReview: { integration: 'builtin', decision: 'approved' } }),
        'accessMonitoringRule automatic_review decision "approved" is not supported',
      ],
      [
        'neither notification nor review',
        withSpec({ notification: undefined }),
        'one of notification or automatic_review must be configured if subjects contain "access_request"',
      ],
      [
        'desired state',
        withSpec({ desiredState: 'approved' }),
        'accessMonitoringRule desired_state "approved" is not supported',
      ],
      [
        'a type error',
        rule('v', 'contains_any(access_request.spec.roles, "dba")'),
        'accessMonitoringRule condition is invalid: parsing expression\n\tparsing second argument to (contains_any)\n\t\texpected type expression.Set, got value (dba) with type (string)',
      ],
    ];
    for (const [what, r, details] of cases) {
      it(`${what}: ${details.split('\n')[0]}`, async () => {
        expect(await failure(create(admin, r))).toEqual({ code: 3, details });
      });
    }

    it('parses the condition and checks desired_state only when the subjects include access_request', async () => {
      const other = rule('other-subject', 'this is not an expression', {
        subjects: ['access_list'],
        desiredState: 'whatever',
        notification: undefined,
      });
      expect((await create(admin, other)).spec?.condition).toBe('this is not an expression');
      await del(admin, 'other-subject');
    });

    it('refuses a condition over the length cap for any subject, as InvalidArgument', async () => {
      const long = Array.from({ length: 15_000 }, (_, i) => `access_request.spec.user == "u${i}"`).join(
        ' || ',
      );
      for (const subjects of [['access_request'], ['access_list']]) {
        expect(await failure(create(admin, rule('long', long, { subjects })))).toEqual({
          code: 3,
          details: `accessMonitoringRule condition is invalid: condition is ${long.length} characters long, more than the ${MAX_CONDITION_LENGTH} allowed`,
        });
      }
      expect((await list(admin)).rules).toEqual([]);
    });

    it('a filtered list returns the rules holding every requested subject (MatchAccessMonitoringRule)', async () => {
      await create(admin, rule('both', 'true', { subjects: ['access_request', 'access_list'] }));
      await create(admin, rule('one', 'true'));
      try {
        const filter = (subjects: string[]) =>
          unary<unknown, { rules: AccessMonitoringRule[] }>(
            admin.amr,
            'listAccessMonitoringRulesWithFilter',
            {
              pageSize: 0,
              pageToken: '',
              subjects,
              notificationName: '',
              automaticReviewName: '',
            },
          );
        const names = async (subjects: string[]) =>
          (await filter(subjects)).rules.map((r) => r.metadata?.name);
        expect(await names(['access_request', 'access_list'])).toEqual(['both']);
        expect(await names(['access_request'])).toEqual(['both', 'one']);
      } finally {
        await del(admin, 'both');
        await del(admin, 'one');
      }
    });
  });

  it('keeps rules across a restart', async () => {
    await create(admin, rule('durable', 'true'));
    admin.close();
    alice.close();
    await server.stop({ graceMs: 500 });
    server = await start();
    await connect();
    expect((await list(admin)).rules.map((r) => r.metadata?.name)).toEqual(['durable']);
    await del(admin, 'durable');
  });
});

describe('automatic review (RFD 0201)', () => {
  const review = (decision: 'APPROVED' | 'DENIED') => ({
    desiredState: 'reviewed',
    automaticReview: { integration: 'builtin', decision },
    notification: undefined,
  });
  const request = (roles: string[]) =>
    alice.call(
      'createAccessRequestV2',
      AccessRequestV3.fromPartial({
        metadata: { name: randomUUID() },
        spec: { user: 'alice', roles, requestReason: 'ticket 1' },
      }),
    );
  /** The request once the access monitor has handled its PUT events (reviews follow them). */
  const read = async (id: string) => {
    await server.reviewsSettled();
    return (await admin.collect('getAccessRequestsV2', AccessRequestFilter.fromPartial({ id })))[0];
  };

  it('approves a matching request under the bot author; thresholds still apply', async () => {
    await create(
      admin,
      rule('auto-approve', 'contains_all(user.traits["team"], set("dev"))', review('APPROVED')),
    );
    try {
      const auditor = await request(['auditor']);
      const after = (await read(auditor.metadata!.name)) as AccessRequestV3;
      expect(after.spec?.state).toBe(RequestState.APPROVED);
      expect(after.spec?.reviews.map((r) => [r.author, r.reason])).toEqual([
        [
          '@teleport-access-approval-bot',
          'Access request has been automatically approved by "@teleport-access-approval-bot". User "alice" is approved by access_monitoring_rule "auto-approve".',
        ],
      ]);
      // dba needs two approvals (dba-requester's threshold): one automatic review is not enough.
      const dba = await request(['dba']);
      const pending = (await read(dba.metadata!.name)) as AccessRequestV3;
      expect(pending.spec?.state).toBe(RequestState.PENDING);
      expect(pending.spec?.reviews.map((r) => r.author)).toEqual(['@teleport-access-approval-bot']);
    } finally {
      await del(admin, 'auto-approve');
    }
  });

  it("reviews on the request's PUT event, as review.go HandleAccessRequest: not inside the create", async () => {
    const bob = await connectIdentity(server.addr, server.identityPath('bob'));
    try {
      // No rule yet: the request is created and stays pending.
      const dba = await request(['dba']);
      expect(dba.spec?.state).toBe(RequestState.PENDING);
      expect(((await read(dba.metadata!.name)) as AccessRequestV3).spec?.reviews).toEqual([]);
      await create(admin, rule('late-approve', 'true', review('APPROVED')));
      // bob's approval (one of the two dba needs) is a PUT of a pending request: the handler
      // sees it and submits the bot's review, which completes the threshold.
      await bob.call('submitAccessReview', {
        requestId: dba.metadata!.name,
        review: AccessReview.fromPartial({ proposedState: RequestState.APPROVED, reason: 'ok' }),
      });
      const after = (await read(dba.metadata!.name)) as AccessRequestV3;
      expect(after.spec?.reviews.map((r) => r.author)).toEqual(['bob', '@teleport-access-approval-bot']);
      expect(after.spec?.state).toBe(RequestState.APPROVED);
    } finally {
      bob.close();
      await del(admin, 'late-approve');
    }
  });

  it('matches regular expressions in linear time (RE2): ^(a+)+$ does not block the server', async () => {
    await create(
      admin,
      rule(
        'catastrophic',
        'regexp.match(access_request.spec.suggested_reviewers, "^(a+)+$")',
        review('DENIED'),
      ),
    );
    try {
      // JavaScript's backtracking RegExp would take hours on 40 a's and a b, the server with it.
      const req = await alice.call(
        'createAccessRequestV2',
        AccessRequestV3.fromPartial({
          metadata: { name: randomUUID() },
          spec: {
            user: 'alice',
            roles: ['auditor'],
            requestReason: 'x',
            suggestedReviewers: [`${'a'.repeat(40)}b`],
          },
        }),
      );
      expect(((await read(req.metadata!.name)) as AccessRequestV3).spec?.state).toBe(RequestState.PENDING);
      const all = await request(['auditor']);
      expect(((await read(all.metadata!.name)) as AccessRequestV3).spec?.state).toBe(RequestState.PENDING);
    } finally {
      await del(admin, 'catastrophic');
    }
  });

  it('a stop right after a create lets the review under way finish: after the restart it is there', async () => {
    await create(admin, rule('approve-before-stop', 'true', review('APPROVED')));
    const req = await request(['auditor']);
    expect(req.spec?.state).toBe(RequestState.PENDING);
    admin.close();
    alice.close();
    await server.stop({ graceMs: 500 });
    server = await start();
    await connect();
    try {
      const after = (await read(req.metadata!.name)) as AccessRequestV3;
      expect(after.spec?.state).toBe(RequestState.APPROVED);
      expect(after.spec?.reviews.map((r) => r.author)).toEqual(['@teleport-access-approval-bot']);
    } finally {
      await del(admin, 'approve-before-stop');
    }
  });

  it('lets DENIED win over APPROVED', async () => {
    await create(admin, rule('a-approve', 'true', review('APPROVED')));
    await create(admin, rule('b-deny', 'access_request.spec.roles.contains("auditor")', review('DENIED')));
    try {
      const req = await request(['auditor']);
      const after = (await read(req.metadata!.name)) as AccessRequestV3;
      expect(after.spec?.state).toBe(RequestState.DENIED);
      expect(after.spec?.reviews.map((r) => r.reason)).toEqual([
        'Access request has been automatically denied by "@teleport-access-approval-bot". User "alice" is denied by access_monitoring_rule "b-deny".',
      ]);
    } finally {
      await del(admin, 'a-approve');
      await del(admin, 'b-deny');
    }
  });

  describe('with schedules (lib/accessmonitoring EvaluateRules: creation time inside a schedule)', () => {
    // Wednesday 18:00–20:00 in Tokyo (UTC+9, no DST) is Wednesday 09:00–11:00 UTC.
    const schedules = {
      'tokyo-evening': {
        time: { timezone: 'Asia/Tokyo', shifts: [{ weekday: 'Wednesday', start: '18:00', end: '20:00' }] },
      },
    };
    /** The next Wednesday at hh:mm UTC at least a day ahead: the 30-day certificates stay valid. */
    const nextWednesday = (hh: number, mm: number) => {
      const d = new Date(Date.now() + 86_400_000);
      d.setUTCDate(d.getUTCDate() + ((3 - d.getUTCDay() + 7) % 7));
      d.setUTCHours(hh, mm, 0, 0);
      return d;
    };
    const stateAt = async (at: Date) => {
      pinned = at;
      try {
        const req = await request(['auditor']);
        return (await read(req.metadata!.name)) as AccessRequestV3;
      } finally {
        pinned = undefined;
      }
    };

    it('reviews a request created inside a schedule, not one created outside', async () => {
      await create(admin, rule('office-hours', 'true', { ...review('APPROVED'), schedules }));
      try {
        const inside = await stateAt(nextWednesday(10, 0));
        expect(inside.spec?.state).toBe(RequestState.APPROVED);
        expect(inside.spec?.reviews.map((r) => r.author)).toEqual(['@teleport-access-approval-bot']);
        // The end is inclusive to the minute: 11:00:00 UTC (20:00 in Tokyo) is in, 11:01 is out.
        expect((await stateAt(nextWednesday(11, 0))).spec?.state).toBe(RequestState.APPROVED);
        const after = await stateAt(nextWednesday(11, 1));
        expect(after.spec?.state).toBe(RequestState.PENDING);
        expect(after.spec?.reviews).toEqual([]);
        // Same hours on a Tuesday: the weekday is Tokyo's, not UTC's.
        const tuesday = await stateAt(new Date(nextWednesday(10, 0).getTime() - 86_400_000));
        expect(tuesday.spec?.state).toBe(RequestState.PENDING);
      } finally {
        await del(admin, 'office-hours');
      }
    });

    it('skips a rule whose time zone cannot be loaded, as Teleport does', async () => {
      const mars = {
        m: {
          time: {
            timezone: 'Mars/Olympus_Mons',
            shifts: [{ weekday: 'Wednesday', start: '00:00', end: '23:59' }],
          },
        },
      };
      const stored = await create(admin, rule('mars', 'true', { ...review('APPROVED'), schedules: mars }));
      expect(stored.spec?.schedules).toEqual(mars);
      try {
        expect((await stateAt(nextWednesday(10, 0))).spec?.state).toBe(RequestState.PENDING);
      } finally {
        await del(admin, 'mars');
      }
    });

    it("refuses a bad schedule on create and update with Teleport's reason and stores nothing", async () => {
      const bad = {
        s: { time: { timezone: 'UTC', shifts: [{ weekday: 'Monday', start: '17:00', end: '09:00' }] } },
      };
      expect(
        await failure(create(admin, rule('bad-hours', 'true', { ...review('APPROVED'), schedules: bad }))),
      ).toEqual({
        code: 3,
        details:
          'validating spec.schedules: validating spec.schedules[s].time: shift is invalid: start time must be before end time',
      });
      expect(
        (
          await failure(
            create(
              admin,
              rule('no-time', 'true', { ...review('APPROVED'), schedules: { s: { time: undefined } } }),
            ),
          )
        ).details,
      ).toBe('validating spec.schedules: spec.schedules[s].time is required');
      await create(admin, rule('good-hours', 'true', { ...review('APPROVED'), schedules }));
      try {
        const update = unary(admin.amr, 'updateAccessMonitoringRule', {
          rule: rule('good-hours', 'true', { ...review('APPROVED'), schedules: bad }),
        });
        expect((await failure(update)).code).toBe(3);
        const kept = await unary<unknown, AccessMonitoringRule>(admin.amr, 'getAccessMonitoringRule', {
          name: 'good-hours',
        });
        expect(kept.spec?.schedules).toEqual(schedules);
        expect((await list(admin)).rules.map((r) => r.metadata!.name)).toEqual(['good-hours']);
      } finally {
        await del(admin, 'good-hours');
      }
    });
  });
});
