/**
 * The examples `access help <topic>`, `access <command> --help` and the man pages show are
 * true: each runs as written with `bash` (the built bundle as `access` on PATH, a private
 * HOME, the demo seed's server) or is checked as the text claims; the first test fails when
 * an example is neither. An example is an indented line (two spaces) that starts with
 * `access `, `source <(access `, `mkdir ` or `export `, with the lines it continues onto
 * (a trailing backslash).
 *
 * Changed when run: `access server start` listens on a free port (`--listen 127.0.0.1:0`
 * added), and the address it prints stands for the topic's `127.0.0.1:3025`; the test's HOME
 * stands for `~`. `psql` is a stand-in that records the identity exec gave it.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CliContext } from '../../src/cli/context.js';
import { describe as describeTree, walk } from '../../src/cli/docs/tree.js';
import { helpTopics } from '../../src/cli/help-topics.js';
import { buildProgram, loadCommands } from '../../src/cli/program.js';
import { parseResourceId } from '../../src/model/resource-id.js';
import { access, ROOT, startTestServer, type TestServer } from '../helpers/e2e.js';
import { fakeIO, runCli } from '../helpers/run-cli.js';
import { type DocShell, docShell } from './shell.js';

const EXAMPLE = /^ {2}((?:source <\(access |access |mkdir |export ).*)$/;

/** Where each example comes from, so a failure names it. */
async function examples(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const take = (text: string, where: string) => {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = EXAMPLE.exec(lines[i]);
      if (!m) continue;
      // A command continued with a trailing backslash is one example, as the shell reads it.
      let example = m[1].trimEnd();
      while (example.endsWith('\\') && i + 1 < lines.length) example += `\n${lines[++i].trimEnd()}`;
      if (!found.has(example)) found.set(example, where);
    }
  };
  for (const t of helpTopics()) take(t.text, `access help ${t.name}`);
  const tree = describeTree(buildProgram(new CliContext(fakeIO()), {}, await loadCommands()));
  for (const d of walk(tree)) {
    const r = await runCli([...d.path, '--help']);
    take(r.stdout, `access ${d.path.join(' ')} --help`);
  }
  for (const f of (await readdir(join(ROOT, 'man'))).filter((n) => n.endsWith('.1'))) {
    const roff = await readFile(join(ROOT, 'man', f), 'utf8');
    take(roff.replace(/\\-/g, '-').replace(/\\e/g, '\\').replace(/^\\&/gm, ''), `man/${f}`);
  }
  return found;
}

interface Plan {
  /** The example, exactly as shown: one line, or lines shown together and run as one block. */
  example: string;
  /** Runs it (the block is the example line; placeholders none) and checks what it claims. */
  run?: (ctx: Ctx, example: string) => Promise<void>;
  skip?: string;
}

interface Ctx {
  sh: DocShell;
  server: TestServer;
  /** `access` acting as `user` against the server, as a block's environment. */
  as(user: string): Record<string, string>;
}

async function runBlock(ctx: Ctx, text: string, user: string, terminal?: string): Promise<string> {
  const run = await ctx.sh.start(`${text}\n`, { env: ctx.as(user), terminal });
  await run.exited();
  return run.output;
}

const plans: Plan[] = [
  {
    example: 'access server start',
    run: async (ctx) => {
      const run = await ctx.sh.start('access server start --listen 127.0.0.1:0\n', { terminal: 'server' });
      try {
        const printed = (await run.waitFor(/^export (.*)$/m))[0];
        const addr = printed.match(/ACCESS_AUTH_SERVER=(\S+)/)![1];
        const shown =
          'export ACCESS_AUTH_SERVER=127.0.0.1:3025 ACCESS_IDENTITY=~/.access/server/identities/alice.pem';
        expect(printed.replaceAll(addr, '127.0.0.1:3025').replaceAll(ctx.sh.home, '~')).toBe(shown);
        // The export line works as pasted.
        await runBlock(ctx, `${printed}\naccess request ls`, 'alice', 'pasted');
      } finally {
        run.interrupt();
        await run.exited(10_000).catch(() => {});
      }
    },
  },
  {
    example: 'export ACCESS_AUTH_SERVER=127.0.0.1:3025 ACCESS_IDENTITY=~/.access/server/identities/alice.pem',
    skip: 'what `access server start` prints: compared with its output in the example above',
  },
  {
    example: 'source <(access completion bash)',
    run: async (ctx, example) => {
      expect(await runBlock(ctx, `${example}\ncomplete -p access`, 'alice')).toMatch(/complete .* access$/m);
    },
  },
  {
    example: ['mkdir -p ~/.zfunc', 'access completion zsh \\', '    > ~/.zfunc/_access'].join('\n'),
    run: async (ctx, example) => {
      await runBlock(ctx, example, 'alice');
      expect(await readFile(join(ctx.sh.home, '.zfunc/_access'), 'utf8')).toMatch(/^#compdef access/);
    },
  },
  {
    example: [
      'mkdir -p ~/.config/fish/completions',
      'access completion fish > \\',
      '  ~/.config/fish/completions/access.fish',
    ].join('\n'),
    run: async (ctx, example) => {
      await runBlock(ctx, example, 'alice');
      expect((await stat(join(ctx.sh.home, '.config/fish/completions/access.fish'))).size).toBeGreaterThan(0);
    },
  },
  {
    example: "access exec --roles dba \\\n    --reason 'ticket 42' -- psql -h db",
    run: async (ctx, example) => {
      await ctx.sh.standIn(
        'psql',
        '[ -r "$TELEPORT_IDENTITY_FILE" ] || exit 66\necho "psql $* with the request\'s identity"',
      );
      // The demo seed's dba needs two approvals: exec waits, the reviewers approve.
      const run = await ctx.sh.start(`${example}\n`, { env: ctx.as('alice'), terminal: 'alice' });
      const id = (await run.waitFor(/Created access request (\S+) \(PENDING\)/))[1];
      for (const reviewer of ['bob', 'carol']) {
        const r = await access(
          ['request', 'review', id, '--approve', '--reason', 'ok'],
          ctx.server.env(reviewer),
        );
        expect(r.code, r.stderr).toBe(0);
      }
      await run.exited();
      expect(run.output).toContain("psql -h db with the request's identity");
    },
  },
  {
    example: 'access sign-helper --print-rbac \\\n    > plugin-rbac.yaml',
    run: async (ctx, example) => {
      await runBlock(ctx, example, 'admin');
      expect(await readFile(join(ctx.sh.work, 'plugin-rbac.yaml'), 'utf8')).toMatch(/^kind: role$/m);
    },
  },
  {
    example: 'access sign-helper \\\n    --user access-plugin --out auth \\\n    --ttl 8h --verify',
    run: async (ctx, example) => {
      await runBlock(ctx, example, 'admin');
      for (const f of ['auth.crt', 'auth.key', 'auth.cas'])
        expect((await stat(join(ctx.sh.work, f))).size).toBeGreaterThan(0);
    },
  },
  {
    example: 'access sign-helper \\\n    --user access-plugin \\\n    --out identity --format file -f json',
    run: async (ctx, example) => {
      // JSON on stdout (the block shows stdout and stderr together).
      expect(await runBlock(ctx, example, 'admin')).toMatch(
        /^\{\n {2}"files": \[\n[\s\S]*"user": "access-plugin"/m,
      );
      expect((await stat(join(ctx.sh.work, 'identity'))).size).toBeGreaterThan(0);
    },
  },
];

describe('help and man page examples', () => {
  let found: Map<string, string>;
  beforeAll(async () => {
    found = await examples();
  });

  test('every example is run, checked or skipped with a reason, and every plan has its example', () => {
    // A plan is one example or several shown together; each whole line of it is an example's.
    const lined = (t: string) => `\n${t}\n`;
    const planned = (e: string) => plans.some((p) => lined(p.example).includes(lined(e)));
    const unplanned = [...found].filter(([e]) => !planned(e)).map(([e, w]) => `${w}: ${e}`);
    expect(unplanned, 'examples neither run nor skipped').toEqual([]);
    const covered = (p: Plan) =>
      [...found.keys()].reduce((rest, e) => rest.replace(lined(e), '\n'), lined(p.example)).trim() === '';
    const stale = plans.filter((p) => !covered(p)).map((p) => p.example);
    expect(stale, 'plans whose example is gone').toEqual([]);
  });

  test('the resource IDs of `access help resource-ids` parse, each as the kind it shows', () => {
    const text = helpTopics().find((t) => t.name === 'resource-ids')!.text;
    const ids = text.split('\n').flatMap((l) => (/^ {2}\/local\//.test(l) ? [l.trim()] : []));
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(parseResourceId(id).kind, id).toBe(id.split('/')[2]);
  });

  describe.sequential('run', () => {
    const ctx = {} as Ctx;
    beforeAll(async () => {
      ctx.sh = await docShell();
      ctx.server = await startTestServer({ seed: null });
      ctx.as = (user) => ({
        ACCESS_AUTH_SERVER: ctx.server.addr,
        ACCESS_IDENTITY: ctx.server.identity(user),
      });
    });
    afterAll(async () => {
      await ctx.sh?.close();
      await ctx.server?.close();
    });
    for (const plan of plans) {
      if (plan.skip) {
        test.skip(`${plan.example}: ${plan.skip}`, () => {});
        continue;
      }
      test(plan.example, async () => {
        await plan.run!(ctx, plan.example);
      });
    }
  });
});
