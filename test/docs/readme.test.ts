/**
 * The README is executable: its shell blocks in the sections below run as written, with
 * `bash`, against an embedded server started by the README's own `access server start`.
 *
 * How a block is run (the conventions the README keeps):
 * - `access` is the built bundle (bin/access.cjs) through a shim on PATH; HOME is a fresh
 *   directory, so `~/.access/server` is private; the environment is otherwise empty.
 * - Each block runs in a named terminal (default: the reader's). Variables a block exports
 *   carry over to the next block of the same terminal, as in one shell; "in another terminal"
 *   is another terminal, run concurrently where the README has the reader wait.
 * - A block fails its test when a command fails (`set -eE -o pipefail`; a whole script,
 *   starting with `#!`, runs by its own interpreter line and fails on its exit code).
 * - Placeholders: `<id>` and `<other-id>` are access request IDs, the ones named per step
 *   below; nothing else is filled in. The one other change: the README's address
 *   `127.0.0.1:3025` becomes the server's free port (the server block listens on port 0),
 *   since a fixed port may be taken where tests run in parallel.
 * - Output: comment lines right under a command are what it prints (stdout and stderr, as a
 *   terminal shows them) and are compared line for line. Normalised on both sides: the
 *   server's address becomes `127.0.0.1:3025`, the test's HOME `~`, request IDs `<uuid>`.
 * - A block that cannot run here is listed in `steps` with `skip` and the reason; the check
 *   at the end fails when a block of these sections has no step, or a step no block.
 * - Stand-ins on PATH: `psql` (the exec example's COMMAND) records the identity it was given.
 */
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT, runAccess, spawnCli, startTestServer } from '../helpers/e2e.js';
import { type CodeBlock, codeBlocks, isShell, placeholdersIn, shownOutputs } from './blocks.js';
import { type BlockRun, type DocShell, docShell } from './shell.js';

const README_ADDR = '127.0.0.1:3025';
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;

/** The sections whose shell blocks are run (by heading); a new section joins by its heading. */
const SECTIONS = [
  'Install the `access` command',
  'A local cluster in one command',
  'Connecting to a real Teleport cluster',
  'The request loop',
  'Reviewing from the terminal',
  'One command with elevated access: `exec`',
  'Scripting with JSON',
  'An auto-approver driven by `watch`',
  'A CI job that requests access and waits',
  'Access Monitoring Rules',
  'Moving from teleport-webhooks',
  'For AI agents: `access mcp`',
];

interface Ctx {
  sh: DocShell;
  /** The embedded server's address, once the server block printed it. */
  addr: string;
  /** Request IDs by name, as steps learn them. */
  ids: Record<string, string>;
  /** Blocks still running, by step name. */
  running: Record<string, BlockRun>;
  /** The environment that makes `access` (spawned directly by a fixture) act as `user`. */
  as(user: string): Record<string, string>;
}

interface Step {
  section: string;
  /** A line (or part of one) that picks the block within its section. */
  match: string;
  name: string;
  /** Why the block is not run here. */
  skip?: string;
  terminal?: string;
  env?: (ctx: Ctx) => Record<string, string>;
  /** Working directory: the clone (for `man -l man/...`), else the scratch directory. */
  inClone?: boolean;
  placeholders?: (ctx: Ctx) => Record<string, string>;
  before?: (ctx: Ctx) => Promise<void>;
  /** Runs concurrently: the step ends once the output matches `ready`; the block keeps running. */
  ready?: RegExp;
  after?: (ctx: Ctx, run: BlockRun) => Promise<void>;
}

async function createNoWait(ctx: Ctx, user: string, roles: string, reason: string): Promise<string> {
  const r = await runAccess(
    ['request', 'create', '--roles', roles, '--reason', reason, '--nowait', '--format', 'json'],
    ctx.as(user),
  );
  if (r.code !== 0) throw new Error(`fixture create failed: ${r.stderr}`);
  return JSON.parse(r.stdout).id;
}

async function requestState(
  ctx: Ctx,
  id: string,
): Promise<{ state: string; resolve_reason: string; reviews: { author: string }[] }> {
  const r = await runAccess(['request', 'show', id, '--format', 'json'], ctx.as('admin'));
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const steps: Step[] = [
  {
    section: 'Install the `access` command',
    match: 'npm install -g .',
    name: 'install',
    skip: 'installs globally; here `access` is the built bin/access.cjs on PATH already',
  },
  {
    section: 'Install the `access` command',
    match: 'access completion bash',
    name: 'completions',
    inClone: true,
    after: async (ctx) => {
      const bash = join(ctx.sh.home, '.local/share/bash-completion/completions/access');
      const { stdout } = await promisify(execFile)('bash', ['-c', `. '${bash}' && complete -p access`]);
      expect(stdout).toContain('access');
      for (const f of ['.zfunc/_access', '.config/fish/completions/access.fish']) {
        expect((await stat(join(ctx.sh.home, f))).size).toBeGreaterThan(0);
      }
    },
  },
  {
    section: 'A local cluster in one command',
    match: 'access server start',
    name: 'server',
    // The server keeps its terminal; the README goes on in others.
    terminal: 'server',
    placeholders: () => ({ [README_ADDR]: '127.0.0.1:0' }),
    ready: /Ctrl-C to stop\n/,
    after: async (ctx, run) => {
      ctx.addr = run.output.match(/^listening on (\S+)$/m)![1];
    },
  },
  {
    section: 'Connecting to a real Teleport cluster',
    match: 'tsh login',
    name: 'real-cluster',
    skip: 'needs tsh and a Teleport cluster at teleport.example.com',
  },
  {
    section: 'The request loop',
    match: 'access request create --roles dba',
    name: 'alice-create',
    terminal: 'alice',
    // alice's create waits for approval: the README continues in another terminal.
    ready: /Waiting for approval/,
    after: async (ctx, run) => {
      ctx.ids.loop = run.output.match(/Created access request (\S+) \(PENDING\)/)![1];
    },
  },
  {
    section: 'The request loop',
    match: 'access request review <id>',
    name: 'reviewers',
    terminal: 'reviewers',
    placeholders: (ctx) => ({ '<id>': ctx.ids.loop }),
    after: async (ctx) => {
      const alice = ctx.running['alice-create'];
      await alice.exited(15_000);
      expect(alice.output).toMatch(/Certificate re-issued for alice with roles [^\n]*\bdba\b/);
    },
  },
  {
    section: 'The request loop',
    match: 'access request drop',
    name: 'alice-drop',
    terminal: 'alice',
  },
  {
    section: 'Reviewing from the terminal',
    match: 'access request ls --reviewable',
    name: 'reviewing',
    terminal: 'reviewers',
    before: async (ctx) => {
      ctx.ids.pending = await createNoWait(ctx, 'alice', 'dba', 'INC-42: migrate the orders table');
      ctx.ids.other = await createNoWait(ctx, 'alice', 'auditor', 'INC-43');
    },
    placeholders: (ctx) => ({ '<id>': ctx.ids.pending, '<other-id>': ctx.ids.other }),
    after: async (ctx, run) => {
      // Teleport's search keywords find alice's dba requests by user and role.
      expect(run.output).toContain(ctx.ids.pending);
      const approved = await requestState(ctx, ctx.ids.pending);
      expect([approved.state, approved.reviews.map((r) => r.author)]).toEqual(['PENDING', ['bob']]);
      expect((await requestState(ctx, ctx.ids.other)).state).toBe('DENIED');
    },
  },
  {
    section: 'Reviewing from the terminal',
    match: 'access request lock <id>',
    name: 'lock',
    terminal: 'reviewers',
    placeholders: (ctx) => ({ '<id>': ctx.ids.pending }),
    after: async (ctx, run) => {
      expect(run.output).toContain(ctx.ids.pending);
    },
  },
  {
    section: 'One command with elevated access: `exec`',
    match: 'access exec',
    name: 'exec',
    terminal: 'alice',
    before: async (ctx) => {
      await ctx.sh.standIn(
        'psql',
        [
          '# Stand-in for psql: records the identity access exec handed over.',
          '[ -r "$TELEPORT_IDENTITY_FILE" ] && [ "$ACCESS_IDENTITY" = "$TELEPORT_IDENTITY_FILE" ] || exit 66',
          `echo "psql $* with $TELEPORT_IDENTITY_FILE" > "$HOME/psql.ran"`,
        ].join('\n'),
      );
    },
    after: async (ctx, run) => {
      // alice's dba request from the loop is approved and not locked: exec uses it.
      expect(run.output).toContain(`Using approved access request ${ctx.ids.loop}`);
      const ran = (await readFile(join(ctx.sh.home, 'psql.ran'), 'utf8')).trim();
      expect(ran).toMatch(/^psql -h db\.internal with (\S+)$/);
      await expect(stat(ran.split(' with ')[1])).rejects.toThrow(/ENOENT/);
    },
  },
  {
    section: 'Scripting with JSON',
    match: "jq -r '.[].id'",
    name: 'scripting',
    terminal: 'reviewers',
  },
  {
    section: 'An auto-approver driven by `watch`',
    match: 'access request watch',
    name: 'auto-approver',
    terminal: 'reviewers',
    // The README: run it as a bot that may read every request and review auditor requests.
    env: (ctx) => ({ ACCESS_IDENTITY: `${ctx.sh.home}/.access/server/identities/admin.pem` }),
    ready: /Watching access requests/,
    after: async (ctx, run) => {
      const id = await createNoWait(ctx, 'alice', 'auditor', 'ticket 7: quarterly audit');
      const waited = await runAccess(
        ['request', 'wait', id, '--no-assume', '--timeout', '20s'],
        ctx.as('alice'),
      );
      expect(waited.code, waited.stderr).toBe(0);
      const approved = await requestState(ctx, id);
      expect([approved.state, approved.resolve_reason]).toEqual([
        'APPROVED',
        'auto-approved: ticket present',
      ]);
      run.interrupt();
    },
  },
  {
    section: 'A CI job that requests access and waits',
    match: 'deploy',
    name: 'ci-job',
    skip: 'needs a CI: $CI_COMMIT_SHA, ./deploy.sh and a requestable `deployer` role, which the demo seed has not',
  },
  {
    section: 'Access Monitoring Rules',
    match: 'access rule create -f rules.yaml',
    name: 'rules',
    terminal: 'reviewers',
    placeholders: (ctx) => ({ '<id>': ctx.ids.loop }),
  },
  {
    section: 'For AI agents: `access mcp`',
    match: 'access mcp --print-config',
    name: 'mcp-config',
    terminal: 'alice',
    after: async (_ctx, run) => {
      // The entry an MCP client takes: this access, started with Node, and alice's credentials.
      const entry = JSON.parse(run.output).mcpServers.access;
      expect(entry.args.at(-1)).toBe('mcp');
      expect(entry.env.ACCESS_IDENTITY).toMatch(/identities\/alice\.pem$/);
    },
  },
];

const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
const blocks = codeBlocks(readme);
const inSections = blocks.filter((b) => SECTIONS.includes(b.section));

function blockOf(step: Step): CodeBlock | undefined {
  const found = inSections.filter(
    (b) => isShell(b) && b.section === step.section && b.text.includes(step.match),
  );
  return found.length === 1 ? found[0] : undefined;
}

/** Files the README shows as blocks whose first line names them (`# rules.yaml`). */
const shownFiles = inSections.flatMap((b) => {
  const m = /^# ([\w.-]+\.(?:ya?ml|json|toml))\b/.exec(b.text);
  return m && !isShell(b) ? [{ name: m[1], text: b.text }] : [];
});

function normalise(text: string, ctx: Ctx): string {
  let out = text;
  if (ctx.addr) out = out.replaceAll(ctx.addr, README_ADDR);
  return out.replaceAll(ctx.sh.home, '~').replace(UUID, '<uuid>');
}

describe('README', () => {
  test('every shell block of the run sections has a step, and every step a block', () => {
    for (const s of SECTIONS)
      expect(
        blocks.some((b) => b.section === s),
        `README section "${s}"`,
      ).toBe(true);
    const unplanned = inSections
      .filter(isShell)
      .filter((b) => !steps.some((s) => blockOf(s) === b))
      .map((b) => `README line ${b.line} (${b.section}): ${b.text.split('\n')[0]}`);
    expect(unplanned, 'shell blocks neither run nor skipped with a reason').toEqual([]);
    const stale = steps.filter((s) => !blockOf(s)).map((s) => `${s.name}: "${s.match}" in "${s.section}"`);
    expect(stale, 'steps whose block is gone or ambiguous').toEqual([]);
  });

  describe.sequential('blocks, in order', () => {
    const ctx: Ctx = {
      sh: undefined as unknown as DocShell,
      addr: '',
      ids: {},
      running: {},
      as(user) {
        return {
          PATH: this.sh.path,
          HOME: this.sh.home,
          ACCESS_AUTH_SERVER: this.addr,
          ACCESS_IDENTITY: `${this.sh.home}/.access/server/identities/${user}.pem`,
        };
      },
    };
    beforeAll(async () => {
      ctx.sh = await docShell();
      for (const f of shownFiles) await writeFile(join(ctx.sh.work, f.name), f.text);
    });
    afterAll(async () => {
      const server = ctx.running.server;
      server?.interrupt();
      await server?.exited(10_000).catch(() => {});
      await ctx.sh?.close();
    });

    const ordered = [...steps].sort((a, b) => (blockOf(a)?.line ?? 0) - (blockOf(b)?.line ?? 0));
    for (const step of ordered) {
      if (step.skip) {
        test.skip(`${step.name}: skipped: ${step.skip}`, () => {});
        continue;
      }
      test(`${step.name} (${step.section})`, async () => {
        const block = blockOf(step);
        if (!block) throw new Error(`no block for step ${step.name}`);
        await step.before?.(ctx);
        let text = block.text;
        for (const [from, to] of Object.entries(step.placeholders?.(ctx) ?? {}))
          text = text.replaceAll(from, to);
        if (ctx.addr) text = text.replaceAll(README_ADDR, ctx.addr);
        expect(placeholdersIn(text), 'placeholders left unfilled').toEqual([]);
        const run = await ctx.sh.start(text, {
          terminal: step.terminal,
          env: step.env?.(ctx),
          cwd: step.inClone ? ROOT : undefined,
        });
        ctx.running[step.name] = run;
        const shown = shownOutputs(block.text);
        if (step.ready) await run.waitFor(step.ready);
        else await run.exited();
        await step.after?.(ctx, run);
        for (const s of shown) {
          // A command still running is compared on the lines the README shows.
          const got = normalise(run.outputOf(s.line), ctx).split('\n').slice(0, s.output.length);
          expect(got, `output of ${s.command}`).toEqual(s.output);
        }
      });
    }
  });
});

/** One POST the webhook bridge made, as received: the raw body and the signature header. */
interface Post {
  url: string;
  body: Buffer;
  signature: string;
}

describe('README: webhooks', () => {
  test('webhook serve routes by the rules example (user.traits) and the Python verify() accepts its POSTs with the key read by read_secret() from a file ending in a newline', async () => {
    const python = blocks.find((b) => b.section === 'Moving from teleport-webhooks' && b.lang === 'python');
    expect(python, 'the Python receiver example').toBeDefined();
    const rules = shownFiles.find((f) => f.name === 'rules.yaml');
    expect(rules, 'the rules.yaml example').toBeDefined();
    const server = await startTestServer({ seed: null });
    const posts: Post[] = [];
    const waiters = new Set<() => void>();
    const receiver = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posts.push({
          url: req.url ?? '',
          body: Buffer.concat(chunks),
          signature: String(req.headers['x-access-signature']),
        });
        res.end('ok');
        for (const w of [...waiters]) w();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    const nextPost = (pred: (p: Post) => boolean) =>
      new Promise<Post>((resolve, reject) => {
        const check = () => {
          const p = posts.find(pred);
          if (p) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(p);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching POST within 20s; got ${posts.map((p) => p.url).join(', ')}`));
        }, 20_000);
        waiters.add(check);
        check();
      });
    const key = join(server.dir, 'signing.key');
    await writeFile(key, 'correct horse battery staple\n', { mode: 0o600 });
    const config = join(server.dir, 'webhook.toml');
    await writeFile(
      config,
      [
        '[teleport]',
        `auth_server = "${server.addr}"`,
        `identity = "${server.identity('access-plugin')}"`,
        '[webhook]',
        `webhook_url = "http://127.0.0.1:${port}/all"`,
        'notify_only = true',
        `signing_secret_file = "${key}"`,
        `state_file = "${join(server.dir, 'webhook-state.json')}"`,
        '[webhook.endpoints]',
        `oncall = "http://127.0.0.1:${port}/oncall"`,
      ].join('\n'),
    );
    const rulesFile = join(server.dir, 'rules.yaml');
    await writeFile(rulesFile, rules!.text);
    const created = await runAccess(['rule', 'create', '-f', rulesFile], server.env('admin'));
    expect(created.code, created.stderr).toBe(0);
    // A request created before the bridge watches is delivered from its catch-up listing.
    const serve = spawnCli(['webhook', 'serve', '--config', config], server.env('access-plugin'));
    try {
      const made = await runAccess(
        ['request', 'create', '--roles', 'dba', '--reason', 'ticket 9', '--nowait', '--format', 'json'],
        server.env('alice'),
      );
      const reqId = JSON.parse(made.stdout).id as string;
      // dba-to-oncall: a dba request by a user whose traits say team dev goes to oncall only.
      const post = await nextPost((p) => p.body.includes(reqId));
      expect(post.url).toBe('/oncall');
      const script = `${python!.text}
import sys
body = open(sys.argv[2], "rb").read()
print(verify(read_secret(sys.argv[1]), body, sys.argv[3]))
`;
      const bodyFile = join(server.dir, 'body.json');
      await writeFile(bodyFile, post.body);
      const { stdout } = await promisify(execFile)('python3', ['-c', script, key, bodyFile, post.signature]);
      expect(stdout.trim()).toBe('True');
    } finally {
      serve.child.kill('SIGINT');
      await serve.exited(10_000).catch(() => {});
      receiver.close();
      await server.close();
    }
  });
});
