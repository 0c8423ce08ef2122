/**
 * Any terminal width (issue 23): what people read in a terminal, through the built bin under a
 * real pseudo-terminal (tmux) at 40, 80 and 120 columns. No line is wider than the terminal
 * (tmux joins the lines it had to wrap, so an overflow shows as a longer line), every request
 * ID is printed whole, and no word of a reason is split across lines.
 *
 * A command joins the check with one row in SCREENS.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AccessRequest } from '../../src/model/request.js';
import {
  access,
  accessJson,
  BIN,
  NODE_DB,
  NODE_WEB,
  startTestServer,
  type TestServer,
} from '../helpers/e2e.js';

/** Words of the reasons, long and unlike any other word on screen, so a cut one shows. */
const REASONS = [
  'decommission legacy replication between warehouse clusters before quarterly maintenance',
  'investigate intermittent checkout latency regression reported overnight',
  'rotate credentials',
];
/** The message of a lock on the second request. */
const LOCK_MESSAGE = 'suspended pending incident postmortem';
const VOCABULARY = new Set([...REASONS, LOCK_MESSAGE].flatMap((r) => r.split(' ')));

interface Screen {
  name: string;
  /** Who runs it. */
  user: string;
  /** The command line after `access` (shell words, no quoting needed). */
  args: () => string;
  /** The request IDs it must show whole. */
  ids: () => string[];
}

let server: TestServer;
let requests: AccessRequest[] = [];
const idsOf = (pred: (r: AccessRequest) => boolean) => () => requests.filter(pred).map((r) => r.id);

const SCREENS: Screen[] = [
  { name: 'ls', user: 'alice', args: () => 'request ls', ids: idsOf(() => true) },
  {
    name: 'ls --reviewable',
    user: 'bob',
    args: () => 'request ls --reviewable',
    ids: idsOf((r) => r.state === 'PENDING' && !r.reviews.some((v) => v.author === 'bob')),
  },
  {
    name: 'show',
    user: 'alice',
    args: () => `request show ${requests[0].id} ${requests[1].id}`,
    ids: () => [requests[0].id, requests[1].id],
  },
  { name: 'search', user: 'alice', args: () => 'request search --kind node', ids: () => [] },
  { name: 'status', user: 'alice', args: () => 'status', ids: () => [] },
  {
    name: 'search (empty)',
    user: 'alice',
    args: () => 'request search --kind node --search nomatch',
    ids: () => [],
  },
  { name: 'lock ls', user: 'admin', args: () => 'lock ls', ids: () => [requests[1].id] },
];

const WIDTHS = [40, 80, 120];

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

/** A tmux server of our own, so the test never touches the user's sessions or options. */
const SOCKET = `access-width-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(async () => {
  if (!hasTmux) return;
  server = await startTestServer();
  const alice = server.env('alice');
  const made = [
    await accessJson<AccessRequest>(
      ['request', 'create', '--roles', 'dba', '--reason', REASONS[0], '--nowait'],
      alice,
    ),
    await accessJson<AccessRequest>(
      [
        'request',
        'create',
        '--resource',
        `/${server.cluster}/node/${NODE_WEB}`,
        '--resource',
        `/${server.cluster}/node/${NODE_DB}`,
        '--reason',
        REASONS[1],
        '--nowait',
      ],
      alice,
    ),
    await accessJson<AccessRequest>(
      ['request', 'create', '--roles', 'auditor', '--reason', REASONS[2], '--nowait'],
      alice,
    ),
  ];
  const review = await access(
    ['request', 'review', made[2].id, '--approve', '--reason', 'fine'],
    server.env('bob'),
  );
  expect(review.code, review.stderr).toBe(0);
  const lock = await access(
    ['request', 'lock', made[1].id, '--ttl', '1h', '--message', LOCK_MESSAGE],
    server.env('admin'),
  );
  expect(lock.code, lock.stderr).toBe(0);
  requests = await accessJson<AccessRequest[]>(['request', 'show', ...made.map((r) => r.id)], alice);
  await writeFile(join(server.dir, 'tmux.conf'), 'set -g history-limit 50000\n');
  // A session that lives as long as the file's tests: the tmux server would otherwise exit as
  // each width's session ends, and the next width's could meet it exiting.
  tmux('-f', join(server.dir, 'tmux.conf'), 'new-session', '-d', '-s', 'keep', 'sleep 600');
});

afterAll(async () => {
  if (!hasTmux) return;
  try {
    tmux('kill-server');
  } catch {
    // Already gone.
  }
  await server?.close();
});

/** Runs every screen in a `width`-column pane and returns each one's text, lines joined back. */
async function render(width: number): Promise<Map<string, string>> {
  const script = join(server.dir, `screens-${width}.sh`);
  const lines = SCREENS.flatMap((s) => {
    const env = server.env(s.user);
    const vars = Object.entries(env).map(([k, v]) => `${k}='${v}'`);
    return [
      `echo '<<< ${s.name}'`,
      `env ${vars.join(' ')} '${process.execPath}' '${BIN}' ${s.args()}`,
      `echo ">>> $?"`,
    ];
  });
  await writeFile(script, `${lines.join('\n')}\necho ALL-DONE\nsleep 600\n`);
  const session = `w${width}`;
  tmux(
    '-f',
    join(server.dir, 'tmux.conf'),
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    String(width),
    '-y',
    '50',
    `sh ${script}`,
  );
  const end = Date.now() + 30_000;
  let text = '';
  for (;;) {
    text = tmux('capture-pane', '-p', '-J', '-S', '-', '-t', session);
    if (/^ALL-DONE$/m.test(text)) break;
    if (Date.now() > end) throw new Error(`the screens at ${width} columns never finished:\n${text}`);
    // A terminal offers no event to wait on: read the screen again, within the bound above.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  tmux('kill-session', '-t', session);
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^<<< (.+)\n([\s\S]*?)^>>> (\d+)$/gm)) {
    expect(m[3], `${m[1]} at ${width} columns exited ${m[3]}:\n${m[2]}`).toBe('0');
    out.set(m[1], m[2]);
  }
  return out;
}

describe.skipIf(!hasTmux)('every screen fits the terminal (tmux)', () => {
  for (const width of WIDTHS) {
    test(`${width} columns: no line wider, IDs whole, no word split`, async () => {
      const screens = await render(width);
      expect([...screens.keys()]).toEqual(SCREENS.map((s) => s.name));
      for (const s of SCREENS) {
        const text = screens.get(s.name)!;
        const where = `${s.name} at ${width} columns:\n${text}`;
        for (const line of text.split('\n')) expect(line.trimEnd().length, where).toBeLessThanOrEqual(width);
        const tokens = text.split(/\s+/).map((t) => t.replace(/^["(]+|[")",.:;]+$/g, ''));
        for (const id of s.ids()) expect(tokens, where).toContain(id);
        for (const t of tokens) {
          // A piece of an ID: hex and dashes, part of a known ID but not all of it.
          if (/^[0-9a-f-]{4,}$/.test(t)) {
            const ids = [...requests.map((r) => r.id), NODE_WEB, NODE_DB];
            expect(
              ids.some((id) => id !== t && id.includes(t)) && !ids.includes(t),
              `${t} is a cut ID in ${where}`,
            ).toBe(false);
          }
          // A piece of a reason's word: what a cut leaves is its start or its end.
          if (t.length >= 4 && !VOCABULARY.has(t)) {
            const whole = [...VOCABULARY].find((w) => w.startsWith(t) || w.endsWith(t));
            expect(whole, `"${t}" is a split word in ${where}`).toBeUndefined();
          }
        }
      }
    });
  }
});
