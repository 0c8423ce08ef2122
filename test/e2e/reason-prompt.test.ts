/**
 * Reason-aware create (issue 15): on the demo seed alice's `dba` requests need a reason and
 * her roles define a prompt. A person at a terminal is asked; anything else is refused with
 * one line naming --reason and the prompt, and nothing is created.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AccessError } from '../../src/model/errors.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { BIN } from '../helpers/e2e.js';
import { runCli } from '../helpers/run-cli.js';

const PROMPT = 'Describe the change or incident and give its ticket ID';
let dir: string;
let server: RunningServer;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'access-reason-'));
  server = await startServer({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
  env = { ACCESS_AUTH_SERVER: server.addr, ACCESS_IDENTITY: server.identityPath('alice') };
});

afterAll(async () => {
  await server?.stop({ graceMs: 500 });
  await rm(dir, { recursive: true, force: true });
});

/** alice's requests, as admin sees them. */
async function requestCount(): Promise<number> {
  const r = await runCli(['request', 'ls', '--user', 'alice', '--format', 'json'], {
    env: { ...env, ACCESS_IDENTITY: server.identityPath('admin') },
  });
  return (JSON.parse(r.stdout) as unknown[]).length;
}

describe('a required reason', () => {
  test('without a terminal: exit 2, one line naming --reason and the prompt, nothing created', async () => {
    const before = await requestCount();
    const r = await runCli(['request', 'create', '--roles', 'dba', '--nowait'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: this request needs a reason: pass --reason TEXT (${PROMPT})\n`);
    expect(await requestCount()).toBe(before);
  });

  test('--no-input refuses even at a terminal', async () => {
    const asked: string[] = [];
    const r = await runCli(['request', 'create', '--roles', 'dba', '--nowait', '--no-input'], {
      env,
      ask: async (q) => {
        asked.push(q);
        return 'x';
      },
    });
    expect(r.code).toBe(2);
    expect(asked).toEqual([]);
  });

  test('at a terminal: shows the prompt, asks, and creates with the answer', async () => {
    const asked: string[] = [];
    const r = await runCli(['request', 'create', '--roles', 'dba', '--nowait', '--format', 'json'], {
      env,
      ask: async (q) => {
        asked.push(q);
        return '  ticket 42: rotate keys ';
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(asked).toEqual(['Reason (required): ']);
    expect(r.stderr).toContain(`${PROMPT}\n`);
    expect(JSON.parse(r.stdout)).toMatchObject({
      roles: ['dba'],
      reason: 'ticket 42: rotate keys',
      state: 'PENDING',
    });
  });

  test('an empty answer is asked once more; a reason then creates the request', async () => {
    const answers = ['', 'ticket 7'];
    const asked: string[] = [];
    const r = await runCli(['request', 'create', '--roles', 'dba', '--nowait', '--format', 'json'], {
      env,
      ask: async (q) => {
        asked.push(q);
        return answers.shift()!;
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(asked).toEqual(['Reason (required): ', 'Reason (required): ']);
    expect(r.stderr).toContain('A reason is required; type one, or press Enter again to give up.\n');
    expect(JSON.parse(r.stdout)).toMatchObject({ reason: 'ticket 7' });
  });

  test('two empty answers: exit 2, nothing created', async () => {
    const before = await requestCount();
    let asked = 0;
    const r = await runCli(['request', 'create', '--roles', 'dba', '--nowait'], {
      env,
      ask: async () => {
        asked++;
        return '  ';
      },
    });
    expect(r.code).toBe(2);
    expect(asked).toBe(2);
    expect(r.stderr).toContain('error: a reason is required and none was given: pass --reason TEXT\n');
    expect(await requestCount()).toBe(before);
  });

  test('Ctrl-C at the question exits 130 and creates nothing', async () => {
    const before = await requestCount();
    const r = await runCli(['request', 'create', '--roles', 'dba', '--nowait'], {
      env,
      ask: async () => {
        throw new AccessError('interrupted', 'interrupted while asking for input');
      },
    });
    expect(r.code).toBe(130);
    expect(await requestCount()).toBe(before);
  });

  test('a role that needs no reason is created without asking', async () => {
    const r = await runCli(['request', 'create', '--roles', 'auditor', '--nowait'], {
      env,
      ask: async () => {
        throw new Error('must not ask');
      },
    });
    expect(r.code, r.stderr).toBe(0);
  });
});

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasTmux)('under a real pseudo-terminal (tmux)', () => {
  const session = `access-reason-${process.pid}`;
  const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
  /** Reads the screen until `re` shows up, within a bound: a terminal offers no other event. */
  async function waitFor(re: RegExp, timeoutMs = 20_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const text = screen();
      if (re.test(text)) return text;
      if (Date.now() > end) throw new Error(`screen never showed ${re}:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  afterAll(() => {
    try {
      execFileSync('tmux', ['kill-session', '-t', session]);
    } catch {
      // Already gone.
    }
  });

  test('a person types the reason, edits it, and the request is created with it', async () => {
    const cmd = [
      `ACCESS_AUTH_SERVER=${server.addr}`,
      `ACCESS_IDENTITY=${server.identityPath('alice')}`,
      process.execPath,
      BIN,
      'request create --roles dba --nowait --format json; echo EXIT=$?; sleep 60',
    ].join(' ');
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '40', cmd]);
    await waitFor(/Reason \(required\):/);
    expect(screen()).toContain(PROMPT);
    execFileSync('tmux', ['send-keys', '-t', session, '-l', 'ticket 41']);
    // Line editing: erase the last character and type the right one.
    execFileSync('tmux', ['send-keys', '-t', session, 'BSpace']);
    execFileSync('tmux', ['send-keys', '-t', session, '-l', '2: on call']);
    execFileSync('tmux', ['send-keys', '-t', session, 'Enter']);
    const done = await waitFor(/EXIT=\d+/);
    expect(done).toMatch(/EXIT=0/);
    expect(done).toContain('"reason": "ticket 42: on call"');
  });
});
