/**
 * `access mcp` as agents run it: the built bin (bin/access.cjs, the bundle, where the SDK's
 * ESM/CJS mix must survive bundling) as a stdio child of the SDK's own Client; a person
 * reviews through the CLI. Then two clients that are not ours: the MCP Inspector's CLI mode,
 * and JSON-RPC written by hand on the child's stdin/stdout. Waits are on progress
 * notifications and exits, each bounded; no sleeps.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AccessRequest } from '../../src/model/request.js';
import type { Status } from '../../src/model/status.js';
import {
  access,
  accessJson,
  BIN,
  copyIdentity,
  createPendingAs,
  expectSchema,
  identityOf,
  ROOT,
  runAccess,
  SEED,
  startTestServer,
  type TestServer,
} from '../helpers/e2e.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
});

const TOOLS = [
  'create_access_request',
  'drop_access',
  'get_access_request',
  'list_access_requests',
  'search_requestable',
  'wait_for_access_request',
  'whoami',
];

interface Session {
  client: Client;
  /** What the server wrote to stderr so far: one line per tool call. */
  stderr(): string;
  close(): Promise<void>;
}

/** Starts `node bin/access.cjs mcp [...extra]` as `env` and connects the SDK's Client to it. */
async function connect(env: Record<string, string>, extra: string[] = []): Promise<Session> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', ...extra],
    env,
    stderr: 'pipe',
  });
  let log = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
  });
  const client = new Client({ name: 'access-e2e', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => log, close: () => client.close() };
}

/** A tool call's result (callTool's type also admits a task's answer, which these tools never give). */
type Result = Awaited<ReturnType<Client['callTool']>>;

function structured<T>(result: Result): T {
  const r = result as CallToolResult;
  expect(r.isError ?? false, JSON.stringify(r.content)).toBe(false);
  return r.structuredContent as T;
}

function text(result: Result): string {
  return (result as CallToolResult).content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

describe('access mcp through the SDK client over stdio', () => {
  test('lists the tools, each with input and output schemas, and no review tool without --allow-review', async () => {
    const alice = server.env('alice');
    const s = await connect(alice);
    try {
      const { tools } = await s.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
      for (const t of tools) {
        expect(t.inputSchema.type).toBe('object');
        expect(t.outputSchema?.type).toBe('object');
        expect(t.description?.length).toBeGreaterThan(80);
        // Every description tells the model that reviews are for people.
        expect(t.description).toMatch(/for people|with people/);
      }
      const create = tools.find((t) => t.name === 'create_access_request')!;
      expect(create.inputSchema.required).toEqual(['reason']);
      expect(create.description).toContain('access request review <id> --approve');
      expect(s.client.getServerVersion()?.name).toBe('access');
      expect(s.client.getInstructions()).toContain('Reviews are for people');
    } finally {
      await s.close();
    }
  });

  test('create, a person approves through the CLI, wait sees "1 of 2 approvals" and assumes, whoami, drop', async () => {
    const alice = await copyIdentity(server, 'alice');
    const s = await connect(alice.env);
    try {
      const created = structured<{ request: AccessRequest; next_step: string }>(
        await s.client.callTool({
          name: 'create_access_request',
          arguments: { roles: ['auditor'], reason: 'agent: rotate audit logs', suggested_reviewers: ['bob'] },
        }),
      );
      expectSchema('request', created.request);
      const id = created.request.id;
      expect(created.request.state).toBe('PENDING');
      expect(created.next_step).toContain(`access request review ${id} --approve`);

      const seen: Progress[] = [];
      let onProgress: (() => void) | undefined;
      const waiting = s.client.callTool(
        { name: 'wait_for_access_request', arguments: { id, timeout_seconds: 60 } },
        undefined,
        {
          timeout: 90_000,
          onprogress: (p) => {
            seen.push(p);
            onProgress?.();
          },
        },
      );
      const progressed = (pattern: RegExp) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no progress ${pattern}: ${JSON.stringify(seen)}`)),
            20_000,
          );
          const check = () => {
            if (seen.some((p) => pattern.test(p.message ?? ''))) {
              clearTimeout(timer);
              onProgress = undefined;
              resolve();
            }
          };
          onProgress = check;
          check();
        });
      // The wait is live (its first read sent "0 of 2"), then bob's approval is one of two.
      await progressed(/0 of 2 approvals/);
      expect(
        (await access(['request', 'review', id, '--approve', '--reason', 'ok'], server.env('bob'))).code,
      ).toBe(0);
      await progressed(/1 of 2 approvals/);
      expect((await access(['request', 'review', id, '--approve'], server.env('carol'))).code).toBe(0);

      const done = structured<{
        outcome: string;
        request: AccessRequest;
        assumed: { roles: string[]; active_requests: string[]; saved_to: string };
      }>(await waiting);
      expect(done.outcome).toBe('approved');
      expectSchema('request', done.request);
      expect(done.request.state).toBe('APPROVED');
      expect(done.assumed.active_requests).toEqual([id]);
      expect(done.assumed.roles).toContain('auditor');
      expect(done.assumed.saved_to).toBe(alice.path);
      expect(seen.map((p) => [p.progress, p.total])).toEqual([
        [0, 2],
        [1, 2],
      ]);
      expect((await identityOf(alice.path)).activeRequests).toEqual([id]);

      const me = structured<Status>(await s.client.callTool({ name: 'whoami', arguments: {} }));
      expectSchema('status', me);
      expect(me.user).toBe('alice');
      expect(me.roles).toContain('auditor');
      expect(me.active_requests).toEqual([
        {
          id,
          state: 'APPROVED',
          roles: ['auditor'],
          resources: [],
          access_expires: done.request.access_expires,
        },
      ]);
      expect(me.credentials).toEqual({ kind: 'identity-file', path: alice.path, writable: true });

      const dropped = structured<{ dropped: string[]; active_requests: string[] }>(
        await s.client.callTool({ name: 'drop_access', arguments: {} }),
      );
      expectSchema('drop-result', dropped);
      expect(dropped.dropped).toEqual([id]);
      expect(dropped.active_requests).toEqual([]);
      expect((await identityOf(alice.path)).activeRequests).toEqual([]);

      // One stderr line per call, with the tool, its arguments and the outcome; stdout stayed the protocol.
      const log = s.stderr();
      expect(log).toMatch(
        /^mcp: create_access_request \{"roles":\["auditor"\].*\} -> ok: created access request/m,
      );
      expect(log).toMatch(
        new RegExp(
          `^mcp: wait_for_access_request \\{"id":"${id}".*-> ok: request ${id} was approved and assumed`,
          'm',
        ),
      );
      expect(log).toMatch(/^mcp: drop_access \{\} -> ok: dropped /m);
    } finally {
      await s.close();
    }
  });

  test('a cancelled wait stops, the request stays pending, and the server keeps serving', async () => {
    const alice = await copyIdentity(server, 'alice');
    const s = await connect(alice.env);
    try {
      const req = await createPendingAs(alice.env, 'dba', 'cancel me');
      const ac = new AbortController();
      let live: () => void = () => {};
      const isLive = new Promise<void>((resolve) => {
        live = resolve;
      });
      const waiting = s.client.callTool(
        { name: 'wait_for_access_request', arguments: { id: req.id } },
        undefined,
        { signal: ac.signal, onprogress: () => live() },
      );
      await isLive;
      ac.abort();
      await expect(waiting).rejects.toThrow(/abort/i);
      const got = structured<{ request: AccessRequest; progress: { summary: string } }>(
        await s.client.callTool({ name: 'get_access_request', arguments: { id: req.id } }),
      );
      expect(got.request.state).toBe('PENDING');
      expect(got.progress.summary).toBe('0 of 1 approval');
      expect(s.stderr()).toMatch(
        new RegExp(
          `^mcp: wait_for_access_request .* -> error: stopped waiting for request ${req.id}; it is still pending \\(interrupted, exit code 130\\)`,
          'm',
        ),
      );
      expect((await identityOf(alice.path)).activeRequests).toEqual([]);
    } finally {
      await s.close();
    }
  });

  test('a wait that times out says so and leaves the request pending', async () => {
    const alice = server.env('alice');
    const s = await connect(alice);
    try {
      const req = await createPendingAs(alice, 'dba', 'time out');
      const r = structured<{ outcome: string; next_step: string }>(
        await s.client.callTool({
          name: 'wait_for_access_request',
          arguments: { id: req.id, timeout_seconds: 1 },
        }),
      );
      expect(r.outcome).toBe('timeout');
      expect(r.next_step).toContain('call wait_for_access_request again');
    } finally {
      await s.close();
    }
  });

  test('refusals come back as tool errors with our one-line message and exit-code kind, never a stack', async () => {
    const s = await connect(server.env('alice'));
    try {
      const refused = await s.client.callTool({
        name: 'create_access_request',
        arguments: { roles: ['admin'], reason: 'agent wants everything' },
      });
      expect(refused.isError).toBe(true);
      const msg = text(refused);
      expect(msg).toMatch(
        /^error: .*admin.* \((permission|usage), exit code [27]\)\nhint: call search_requestable/,
      );
      expect(msg).not.toMatch(/\n\s+at /);

      const missing = await s.client.callTool({
        name: 'get_access_request',
        arguments: { id: '00000000-0000-4000-8000-000000000000' },
      });
      expect(missing.isError).toBe(true);
      expect(text(missing)).toBe(
        'error: access request "00000000-0000-4000-8000-000000000000" not found (not-found, exit code 6)',
      );

      const bad = await s.client.callTool({ name: 'get_access_request', arguments: { id: 'nope' } });
      expect(bad.isError).toBe(true);
      expect(text(bad)).toMatch(/^error: .*nope.* \(usage, exit code 2\)/);
      const noReason = await s.client.callTool({
        name: 'create_access_request',
        arguments: { roles: ['dba'] },
      });
      expect(noReason.isError).toBe(true);
      expect(text(noReason)).toContain('reason');
      expect(s.stderr()).toMatch(/^mcp: create_access_request .* -> error: .*\(permission|usage/m);
    } finally {
      await s.close();
    }
  });

  test('--allow-review adds the review tool; the server still refuses a review of the user’s own request', async () => {
    // erin may both request dba and review dba requests: only the self-review rule stops her agent.
    const both = await startTestServer({
      seed: `${SEED}---\nkind: user\nversion: v2\nmetadata: { name: erin }\nspec: { roles: [requester, reviewer] }\n`,
    });
    try {
      await selfReview(both);
    } finally {
      await both.close();
    }
  });

  async function selfReview(server: TestServer): Promise<void> {
    const erin = server.env('erin');
    const req = await createPendingAs(erin, 'dba', 'self review');
    const s = await connect(erin, ['--allow-review']);
    try {
      const { tools } = await s.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([...TOOLS, 'review_access_request'].sort());
      const own = await s.client.callTool({
        name: 'review_access_request',
        arguments: { id: req.id, decision: 'approve', reason: 'looks fine to me' },
      });
      expect(own.isError).toBe(true);
      expect(text(own)).toMatch(
        new RegExp(
          `^error: user "erin" cannot review request "${req.id}" \\(permission, exit code 7\\)\nhint: nobody reviews their own request`,
        ),
      );
      const after = await accessJson<AccessRequest>(['request', 'show', req.id], erin);
      expect(after.reviews).toEqual([]);
    } finally {
      await s.close();
    }
    // A reviewer's agent may review someone else's request when a person allowed it.
    const bob = await connect(server.env('bob'), ['--allow-review']);
    try {
      const r = structured<{ request: AccessRequest }>(
        await bob.client.callTool({
          name: 'review_access_request',
          arguments: { id: req.id, decision: 'deny', reason: 'not now' },
        }),
      );
      expect(r.request.state).toBe('DENIED');
    } finally {
      await bob.close();
    }
  }

  test('--print-config prints the command, args and env an MCP client takes', async () => {
    const env = server.env('alice');
    const r = await runAccess(['mcp', '--print-config'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      mcpServers: {
        access: {
          command: process.execPath,
          args: [BIN, 'mcp'],
          env: { ACCESS_AUTH_SERVER: env.ACCESS_AUTH_SERVER, ACCESS_IDENTITY: env.ACCESS_IDENTITY },
        },
      },
    });
  });
});

describe('clients that are not ours', () => {
  test('the MCP Inspector CLI lists the tools and calls whoami', async () => {
    const build = join(ROOT, 'node_modules', '@modelcontextprotocol', 'inspector-cli', 'build');
    const inspector = join(build, 'index.js');
    const env = server.env('alice');
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        // Run from its build directory: it looks for its package.json at ../package.json from
        // the working directory (inspector-cli 1.0.3, build/index.js: callMethod).
        const child = spawn(process.execPath, [inspector, process.execPath, BIN, 'mcp', ...args], {
          env,
          cwd: build,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
        });
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
        });
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const list = await run(['--method', 'tools/list']);
    expect(list.code, list.stderr).toBe(0);
    expect(
      (JSON.parse(list.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name).sort(),
    ).toEqual(TOOLS);
    const who = await run(['--method', 'tools/call', '--tool-name', 'whoami']);
    expect(who.code, who.stderr).toBe(0);
    const result = JSON.parse(who.stdout) as CallToolResult;
    expectSchema('status', result.structuredContent);
    expect((result.structuredContent as unknown as Status).user).toBe('alice');
  });

  test('JSON-RPC by hand on stdin/stdout: initialize, tools/list, a call and a tool error', async () => {
    const child = spawn(process.execPath, [BIN, 'mcp'], { env: server.env('alice') });
    const lines = createInterface({ input: child.stdout });
    const replies = new Map<number, (msg: Record<string, unknown>) => void>();
    const stdout: string[] = [];
    lines.on('line', (line) => {
      stdout.push(line);
      const msg = JSON.parse(line) as { id?: number };
      if (msg.id !== undefined) replies.get(msg.id)?.(msg);
    });
    let next = 1;
    const ask = (method: string, params: unknown) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => reject(new Error(`no reply to ${method}`)), 20_000);
        replies.set(id, (msg) => {
          clearTimeout(timer);
          resolve(msg);
        });
        child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
      });
    try {
      const init = await ask('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'by-hand', version: '0' },
      });
      expect(init.result).toMatchObject({ protocolVersion: '2025-06-18', serverInfo: { name: 'access' } });
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
      const list = (await ask('tools/list', {})) as { result: { tools: { name: string }[] } };
      expect(list.result.tools.map((t) => t.name).sort()).toEqual(TOOLS);
      const search = (await ask('tools/call', { name: 'search_requestable', arguments: {} })) as {
        result: { structuredContent: { roles: { role: string }[] } };
      };
      expect(search.result.structuredContent.roles.map((r) => r.role)).toEqual(['auditor', 'dba']);
      const refused = (await ask('tools/call', {
        name: 'drop_access',
        arguments: { ids: ['not-an-id'] },
      })) as { result: { isError: boolean; content: { text: string }[] } };
      expect(refused.result.isError).toBe(true);
      expect(refused.result.content[0].text).toMatch(
        /^error: invalid request ID "not-an-id": .* \(usage, exit code 2\)\nhint: /,
      );
      // Every line on stdout is a JSON-RPC message: nothing else was written there.
      for (const line of stdout) expect((JSON.parse(line) as { jsonrpc: string }).jsonrpc).toBe('2.0');
    } finally {
      const exited = new Promise((resolve) => child.on('close', resolve));
      child.stdin.end();
      // Closing stdin ends the server by itself.
      expect(await exited).toBe(0);
    }
  });
});
