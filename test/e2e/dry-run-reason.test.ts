import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as create from '../../src/cli/commands/request-create.js';
import type { Context } from '../../src/cli/context.js';
import type { Connection } from '../../src/client/connect.js';
import {
  AccessCapabilities,
  AccessRequestV3,
  RequestState,
} from '../../src/gen/teleport/legacy/types/types.js';
import { UsageError } from '../../src/model/errors.js';
import type { AccessRequest, DryRunResult } from '../../src/model/request.js';
import type { RunningServer } from '../../src/server/index.js';
import { expectSchema, startTestServer, type TestServer } from '../helpers/e2e.js';
import { connectIdentity } from '../helpers/grpc.js';
import { fakeIO, runCli } from '../helpers/run-cli.js';

const SEED = `
kind: role
version: v7
metadata: { name: dba-requester }
spec:
  allow:
    request:
      roles: [dba]
      reason: { mode: required, prompt: 'Name the incident ticket' }
      thresholds: [{ name: two, approve: 2, deny: 1 }]
---
kind: role
version: v7
metadata: { name: dashboard-requester }
spec:
  allow:
    request:
      roles: [dba, auditor]
      reason: { prompt: 'Say which dashboard' }
      suggested_reviewers: [bob]
---
kind: role
version: v7
metadata: { name: dba }
spec: { allow: { logins: [postgres] } }
---
kind: role
version: v7
metadata: { name: auditor }
spec: { allow: { logins: [audit] } }
---
kind: user
version: v2
metadata: { name: alice }
spec: { roles: [dba-requester, dashboard-requester] }
`;

let ts: TestServer;
let dir: string;
let server: RunningServer;

const cli = (argv: string[]) =>
  runCli(argv, {
    env: { HOME: dir, ACCESS_AUTH_SERVER: server.addr, ACCESS_IDENTITY: server.identityPath('alice') },
  });

beforeAll(async () => {
  ts = await startTestServer({ seed: SEED });
  ({ dir, server } = ts);
});

afterAll(async () => {
  await ts?.close();
});

describe('create --dry-run shows the reason policy with the request it would create', () => {
  test('JSON: the request, then reason_mode and the prompts of every requester role, sorted', async () => {
    const r = await cli([
      'request',
      'create',
      '--roles',
      'dba',
      '--reason',
      'INC-7',
      '--dry-run',
      '--format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as DryRunResult;
    expectSchema('dry-run', out);
    expect(out).toMatchObject({
      roles: ['dba'],
      reason: 'INC-7',
      suggested_reviewers: ['bob'],
      // Both requester roles cover dba: their threshold sets (the second one's default).
      thresholds: [
        { name: 'two', approve: 2, deny: 1 },
        { name: 'default', approve: 1, deny: 1 },
      ],
      reason_mode: 'required',
      reason_prompts: ['Name the incident ticket', 'Say which dashboard'],
    });
    expect(out.access_expires).not.toBeNull();
    expect(out.max_duration).not.toBeNull();
  });

  test('text: expiry, reviewers and thresholds, then whether a reason is required and the prompts', async () => {
    const r = await cli(['request', 'create', '--roles', 'auditor', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Access Expires: /m);
    expect(r.stdout).toMatch(/^Reviewers: +bob \(suggested\)$/m);
    expect(r.stdout).toMatch(/^Reason required: +no$/m);
    expect(r.stdout).toMatch(/^Reason prompts: +Say which dashboard$/m);
  });

  test('on the wire: only a dry run carries the enrichment, and nothing is stored', async () => {
    const c = await connectIdentity(server.addr, server.identityPath('alice'));
    try {
      const spec = { user: 'alice', roles: ['auditor'], requestReason: 'x' };
      const dry = await c.call(
        'createAccessRequestV2',
        AccessRequestV3.fromPartial({ metadata: { name: randomUUID() }, spec: { ...spec, dryRun: true } }),
      );
      expect(dry.spec?.dryRunEnrichment).toEqual({
        reasonMode: 'optional',
        reasonPrompts: ['Say which dashboard'],
      });
      const real = await c.call(
        'createAccessRequestV2',
        AccessRequestV3.fromPartial({
          metadata: { name: randomUUID() },
          spec: { ...spec, dryRunEnrichment: { reasonMode: 'required', reasonPrompts: ['forged'] } },
        }),
      );
      expect(real.spec?.state).toBe(RequestState.PENDING);
      expect(real.spec?.dryRunEnrichment).toBeUndefined();
    } finally {
      c.close();
    }
    const mine = JSON.parse(
      (await cli(['request', 'ls', '--mine', '--format', 'json'])).stdout,
    ) as AccessRequest[];
    expect(mine).toHaveLength(1);
  });
});

describe("create's reason check with a server that answers the dry run with the enrichment", () => {
  /** A server that does not refuse the reason-less dry run but says a reason is required. */
  function enrichingServer(prompts: string[]): { conn: Connection; created: AccessRequestV3[] } {
    const created: AccessRequestV3[] = [];
    const conn = {
      identity: { username: 'alice' },
      auth: {
        createAccessRequestV2: async (req: AccessRequestV3) => {
          if (!req.spec?.dryRun) created.push(req);
          return AccessRequestV3.fromPartial({
            ...req,
            spec: {
              ...req.spec,
              dryRunEnrichment: req.spec?.dryRun
                ? { reasonMode: 'required', reasonPrompts: prompts }
                : undefined,
            },
          });
        },
        getAccessCapabilities: async () =>
          AccessCapabilities.fromPartial({ requestPrompt: 'from capabilities', requireReason: true }),
      },
    } as unknown as Connection;
    return { conn, created };
  }

  function context(conn: Connection, ask?: (q: string) => Promise<string>): Context {
    const io = fakeIO(ask ? { ask } : {});
    return {
      io,
      env: io.env,
      format: 'text',
      debug: false,
      now: () => new Date(),
      connect: async () => conn,
    } as unknown as Context;
  }

  const opts = () => create.parse([[]], { roles: 'dba', nowait: true, input: false, assume: true });

  test('without a TTY: a usage error naming --reason and the served prompts; nothing created', async () => {
    const { conn, created } = enrichingServer(['Name the incident ticket', 'Say which dashboard']);
    const err = await create.run(context(conn), opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      'this request needs a reason: pass --reason TEXT (Name the incident ticket; Say which dashboard)',
    );
    expect(created).toEqual([]);
  });

  test('no served prompt: the capabilities prompt is shown instead; the answer is used', async () => {
    const { conn, created } = enrichingServer([]);
    const questions: string[] = [];
    const ctx = context(conn, async (q) => {
      questions.push(q);
      return 'INC-9';
    });
    expect(await create.run(ctx, { ...opts(), noInput: false })).toBe(0);
    expect((ctx.io as ReturnType<typeof fakeIO>).err.text).toContain('from capabilities');
    expect(questions).toEqual(['Reason (required): ']);
    expect(created.map((r) => r.spec?.requestReason)).toEqual(['INC-9']);
  });
});
