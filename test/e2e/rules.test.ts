/**
 * `access rule` against the embedded server, in-process through main(): create from a
 * multi-document file, ls/show/test/update/rm, refusals that change nothing, and automatic
 * reviews that end a waiting `create` (exit 0 approved, 3 denied).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { MAX_CONDITION_LENGTH } from '../../src/model/limits.js';
import { runAccess, startTestServer, type TestServer } from '../helpers/e2e.js';
import { fakeIO } from '../helpers/run-cli.js';

let server: TestServer;

beforeAll(async () => {
  // The built-in demo seed: its admin may manage access_monitoring_rule.
  server = await startTestServer({ seed: null });
});

afterAll(async () => {
  await server?.close();
});

async function access(
  user: string,
  args: string[],
  now?: () => Date,
): Promise<{ code: number; out: string; err: string }> {
  const io = fakeIO({
    env: { ACCESS_AUTH_SERVER: server.addr, ACCESS_IDENTITY: server.identity(user), HOME: server.dir },
    now,
  });
  const code = await main(args, io);
  return { code, out: io.out.text, err: io.err.text };
}

const ROUTES = `kind: access_monitoring_rule
version: v1
metadata:
  name: route-dba
spec:
  subjects: [access_request]
  condition: access_request.spec.roles.contains("dba") && user.traits["team"].contains("dev")
  notification:
    name: webhook
    recipients: [https://hooks.example.com/dba]
---
kind: access_monitoring_rule
version: v1
metadata:
  name: route-all
spec:
  subjects: [access_request]
  condition: "true"
  notification: { name: slack, recipients: ["#access"] }
`;

describe('access rule', () => {
  it('creates from a multi-document file, lists, shows and removes', async () => {
    const file = join(server.dir, 'routes.yaml');
    await writeFile(file, ROUTES);
    const created = await access('admin', ['rule', 'create', '-f', file]);
    expect(created, created.err).toMatchObject({ code: 0 });
    expect(created.err).toContain('access_monitoring_rule "route-dba" has been created');

    const ls = await access('admin', ['rule', 'ls', '--format', 'json']);
    const rules = JSON.parse(ls.out) as { metadata: { name: string } }[];
    expect(rules.map((r) => r.metadata.name)).toEqual(['route-all', 'route-dba']);

    // Once through the spawned bundle, so the rule commands' bundling is covered too.
    const shown = await runAccess(['rules', 'show', 'route-dba', '--format', 'yaml'], server.env('admin'));
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('kind: access_monitoring_rule');
    expect(shown.stdout).toContain('- https://hooks.example.com/dba');

    const again = await access('admin', ['rule', 'create', '-f', file]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('already exists');

    expect((await access('admin', ['rule', 'rm', 'route-dba', 'route-all'])).code).toBe(0);
    expect(JSON.parse((await access('admin', ['rule', 'ls', '-f', 'json'])).out)).toEqual([]);
  });

  it('refuses a bad file before sending anything (exit 2), and a requester (exit 7)', async () => {
    const bad = join(server.dir, 'bad.yaml');
    await writeFile(
      bad,
      `${ROUTES}---\nkind: access_monitoring_rule\nversion: v1\nmetadata: { name: x }\nspec: { subjects: [access_request], conditon: "true" }\n`,
    );
    const r = await access('admin', ['rule', 'create', '-f', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`unknown field "conditon" in ${bad}, document 3 spec`);
    expect(JSON.parse((await access('admin', ['rule', 'ls', '-f', 'json'])).out)).toEqual([]);

    const cond = join(server.dir, 'cond.yaml');
    await writeFile(cond, ROUTES.replace('contains("dba")', 'contains("dba"'));
    const c = await access('admin', ['rule', 'create', '-f', cond]);
    expect(c.code).toBe(2);
    expect(c.err).toContain(
      "error: accessMonitoringRule condition is invalid: parsing expression: 1:80: missing ',' before newline in argument list",
    );

    const denied = await access('alice', ['rule', 'ls']);
    expect(denied.code).toBe(7);
  });

  it('tests a rule against a request file and names the part that failed', async () => {
    const file = join(server.dir, 'routes.yaml');
    await writeFile(file, ROUTES);
    const reqFile = join(server.dir, 'req.json');
    await writeFile(
      reqFile,
      JSON.stringify({ id: 'r1', user: 'alice', roles: ['dba'], user_traits: { team: ['ops'] } }),
    );
    const t = await access('admin', ['rule', 'test', '-f', file, '--request-file', reqFile]);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toBe(
      'route-dba: not matched\n  failed: user.traits["team"].contains("dev")\nroute-all: matched\n  notify slack: #access\n',
    );
    const j = await access('admin', [
      'rule',
      'test',
      '-f',
      file,
      '--request-file',
      reqFile,
      '--format',
      'json',
    ]);
    expect(JSON.parse(j.out)[0]).toEqual({
      rule: 'route-dba',
      request: 'r1',
      matched: false,
      failed: ['user.traits["team"].contains("dev")'],
      notification: { name: 'webhook', recipients: ['https://hooks.example.com/dba'] },
      automatic_review: null,
      schedule: null,
    });
  });
});

const OFFICE_HOURS = `kind: access_monitoring_rule
version: v1
metadata:
  name: office-hours
spec:
  subjects: [access_request]
  condition: "true"
  desired_state: reviewed
  automatic_review: { integration: builtin, decision: APPROVED }
  schedules:
    tokyo:
      time:
        timezone: Asia/Tokyo
        shifts:
          - { weekday: Wednesday, start: "18:00", end: "20:00" }
          - { weekday: Thursday, start: "09:00", end: "17:30" }
    weekend:
      time:
        shifts:
          - { weekday: Saturday, start: "00:00", end: "23:59" }
`;

describe('access rule with schedules', () => {
  it('round-trips schedules through create -f and show -f yaml, and shows them in ls and show', async () => {
    const file = join(server.dir, 'office.yaml');
    await writeFile(file, OFFICE_HOURS);
    const created = await access('admin', ['rule', 'create', '-f', file]);
    expect(created, created.err).toMatchObject({ code: 0 });
    try {
      const { parse } = await import('yaml');
      const shown = await access('admin', ['rule', 'show', 'office-hours', '--format', 'yaml']);
      const back = parse(shown.out) as { spec: unknown };
      const sent = parse(OFFICE_HOURS) as { spec: { schedules: { weekend: { time: object } } } };
      // An omitted timezone comes back as the empty string Teleport stores (UTC).
      sent.spec.schedules.weekend.time = { timezone: '', ...sent.spec.schedules.weekend.time };
      expect(back.spec).toEqual(sent.spec);
      // What came out loads back unchanged.
      const again = join(server.dir, 'office-again.yaml');
      await writeFile(again, shown.out);
      expect((await access('admin', ['rule', 'update', '-f', again])).code).toBe(0);
      const reshown = await access('admin', ['rule', 'show', 'office-hours', '--format', 'yaml']);
      expect(parse(reshown.out).spec).toEqual(back.spec);

      const text = await access('admin', ['rule', 'show', 'office-hours']);
      expect(text.out).toContain(
        'Schedules:  tokyo (Asia/Tokyo): Wednesday 18:00-20:00, Thursday 09:00-17:30\n' +
          '            weekend (UTC): Saturday 00:00-23:59\n',
      );
      const ls = await access('admin', ['rule', 'ls']);
      expect(ls.out).toContain('review APPROVED (builtin); only in schedules: tokyo, weekend');
    } finally {
      await access('admin', ['rule', 'rm', 'office-hours']);
    }
  });

  it('refuses a schedule Teleport refuses (exit 2) and stores nothing', async () => {
    const file = join(server.dir, 'night.yaml');
    await writeFile(
      file,
      OFFICE_HOURS.replace('start: "09:00", end: "17:30"', 'start: "22:00", end: "02:00"'),
    );
    const r = await access('admin', ['rule', 'create', '-f', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('shift is invalid: start time must be before end time');
    expect(JSON.parse((await access('admin', ['rule', 'ls', '-f', 'json'])).out)).toEqual([]);
  });

  it('rule test says whether the schedules are in effect now', async () => {
    const file = join(server.dir, 'office.yaml');
    await writeFile(file, OFFICE_HOURS);
    const reqFile = join(server.dir, 'req.json');
    await writeFile(reqFile, JSON.stringify({ id: 'r1', user: 'alice', roles: ['dba'] }));
    const at = (iso: string) => () => new Date(iso);
    // 2026-03-04 is a Wednesday; 10:00 UTC is 19:00 in Tokyo.
    const inside = await access(
      'admin',
      ['rule', 'test', '-f', file, '--request-file', reqFile],
      at('2026-03-04T10:00:00Z'),
    );
    expect(inside.code, inside.err).toBe(0);
    expect(inside.out).toBe(
      'office-hours: matched\n  review APPROVED (builtin)\n' +
        '  schedules: in effect now (2026-03-04T10:00:00.000Z); the rule applies only to requests created inside one\n',
    );
    const outside = await access(
      'admin',
      ['rule', 'test', '-f', file, '--request-file', reqFile, '--format', 'json'],
      at('2026-03-04T12:00:00Z'),
    );
    expect(JSON.parse(outside.out)[0].schedule).toEqual({ in_effect: false, at: '2026-03-04T12:00:00.000Z' });
  });
});

describe('request ls --condition', () => {
  it('keeps only matching requests; a bad condition is exit 2 with its position', async () => {
    const made = await access('alice', [
      'request',
      'create',
      '--roles',
      'auditor',
      '--reason',
      'cond',
      '--nowait',
      '-f',
      'json',
    ]);
    expect(made.code, made.err).toBe(0);
    const id = JSON.parse(made.out).id as string;
    const ls = (cond: string) => access('admin', ['request', 'ls', '--condition', cond, '-f', 'json']);
    const hit = JSON.parse(
      (
        await ls(
          'access_request.spec.roles.contains("auditor") && access_request.spec.request_reason == "cond"',
        )
      ).out,
    );
    expect(hit.map((r: { id: string }) => r.id)).toEqual([id]);
    expect(JSON.parse((await ls('access_request.spec.roles.contains("nope")')).out)).toEqual([]);
    const bad = await ls('access_request.spec.roles.contains(');
    expect(bad.code).toBe(2);
    expect(bad.err).toBe("error: invalid --condition: parsing expression: 1:36: expected ')', found 'EOF'\n");
    // Issue 22: 15,000 terms once overflowed the stack (exit 1); now it is a one-line usage error.
    const long = Array.from({ length: 15_000 }, (_, i) => `access_request.spec.user == "u${i}"`).join(' || ');
    const huge = await ls(long);
    expect(huge.code).toBe(2);
    expect(huge.err).toBe(
      `error: invalid --condition: condition is ${long.length} characters long, more than the ${MAX_CONDITION_LENGTH} allowed\n`,
    );
    const created = await ls(`access_request.spec.creation_time.after(time.RFC3339("2000-01-01T00:00:00Z"))`);
    expect(JSON.parse(created.out).map((r: { id: string }) => r.id)).toContain(id);
    expect((await access('admin', ['request', 'rm', id, '--force'])).code).toBe(0);
  });
});

describe('automatic review ends a waiting create', () => {
  const autoRule = (name: string, decision: string) => `kind: access_monitoring_rule
version: v1
metadata: { name: ${name} }
spec:
  subjects: [access_request]
  condition: access_request.spec.roles.contains("auditor")
  desired_state: reviewed
  automatic_review: { integration: builtin, decision: ${decision} }
`;

  it('approved: exit 0; denied: exit 3', async () => {
    const file = join(server.dir, 'auto.yaml');
    await writeFile(file, autoRule('auto-approve', 'APPROVED'));
    expect((await access('admin', ['rule', 'create', '-f', file])).code).toBe(0);
    const ok = await access('alice', [
      'request',
      'create',
      '--roles',
      'auditor',
      '--reason',
      'r',
      '--no-assume',
      '--timeout',
      '20s',
    ]);
    expect(ok.code, ok.err).toBe(0);

    await writeFile(file, autoRule('auto-deny', 'DENIED'));
    expect((await access('admin', ['rule', 'create', '-f', file])).code).toBe(0);
    const no = await access('alice', [
      'request',
      'create',
      '--roles',
      'auditor',
      '--reason',
      'r',
      '--no-assume',
      '--timeout',
      '20s',
      '-f',
      'json',
    ]);
    expect(no.code, no.err).toBe(3);
    expect(JSON.parse(no.out).reviews[0].author).toBe('@teleport-access-approval-bot');
  });
});
