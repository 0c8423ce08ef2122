// `npm run demo`: the whole request loop against an embedded server in a temporary
// directory, printing each command before it runs. Works without a TTY; exits non-zero
// if any step does not behave as narrated.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const bin = join(import.meta.dirname, '..', 'bin', 'access.cjs');
const dir = mkdtempSync(join(tmpdir(), 'access-demo-'));
const STEP_TIMEOUT_MS = 60_000;
const baseEnv = { ...process.env, NO_COLOR: '1' };
for (const k of Object.keys(baseEnv)) if (/^(ACCESS_|TELEPORT_)/.test(k)) delete baseEnv[k];

let server;

function say(text) {
  process.stdout.write(`\n# ${text}\n`);
}

function shellWords(args) {
  return args.map((a) => (/[\s"'$]/.test(a) ? `'${a.replace(/'/g, "'\\''")}'` : a)).join(' ');
}

function identity(user) {
  return join(dir, 'identities', `${user}.pem`);
}

function env(user) {
  return { ...baseEnv, ACCESS_AUTH_SERVER: server.addr, ACCESS_IDENTITY: identity(user) };
}

/** Starts `access ARGS` as USER, echoing the command and its output with a prefix. */
function start(user, args, { prefix = '  ' } = {}) {
  process.stdout.write(`$ ACCESS_IDENTITY=identities/${user}.pem access ${shellWords(args)}\n`);
  const child = spawn(process.execPath, [bin, ...args], {
    env: env(user),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const waiters = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      process.stdout.write(`${prefix}${line}\n`);
      for (const w of waiters) w(line);
    });
  }
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  const waitForLine = (re) =>
    new Promise((resolve, reject) => {
      const found = lines.find((l) => re.test(l));
      if (found) return resolve(found);
      const timer = setTimeout(
        () => reject(new Error(`no line matching ${re} within ${STEP_TIMEOUT_MS}ms`)),
        STEP_TIMEOUT_MS,
      );
      waiters.push((line) => {
        if (re.test(line)) {
          clearTimeout(timer);
          resolve(line);
        }
      });
    });
  return { child, exited, waitForLine, lines };
}

async function run(user, args, expectCode = 0) {
  const p = start(user, args);
  const code = await p.exited;
  if (code !== expectCode) throw new Error(`access ${args.join(' ')} exited ${code}, expected ${expectCode}`);
  return p.lines;
}

async function main() {
  say(`Start the embedded Teleport-compatible Auth API in ${dir}`);
  process.stdout.write(`$ access server start --data-dir ${dir} --listen 127.0.0.1:0\n`);
  const proc = spawn(
    process.execPath,
    [bin, 'server', 'start', '--data-dir', dir, '--listen', '127.0.0.1:0'],
    {
      env: baseEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  server = { proc, exited: new Promise((resolve) => proc.on('close', (code) => resolve(code))) };
  proc.stderr.resume();
  server.addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start')), STEP_TIMEOUT_MS);
    let addr;
    createInterface({ input: proc.stdout }).on('line', (line) => {
      process.stdout.write(`  ${line}\n`);
      addr ??= /^listening on (\S+)$/.exec(line)?.[1];
      // The export line follows the ready line; wait for it so the output reads in order.
      if (addr && line.startsWith('# other identities')) {
        clearTimeout(timer);
        resolve(addr);
      }
    });
    proc.on('close', () => reject(new Error('the server exited before it was ready')));
  });

  say('alice looks for what she may request: roles, then nodes through search_as_roles');
  await run('alice', ['request', 'search', '--roles']);
  await run('alice', ['request', 'search', '--kind', 'node']);

  say(
    'alice asks for the dba role; it needs a reason and two approvals. create waits (in the background here)',
  );
  const create = start(
    'alice',
    ['request', 'create', '--roles', 'dba', '--reason', 'ticket 42: rotate the orders db'],
    {
      prefix: '  [alice] ',
    },
  );
  const idLine = await create.waitForLine(/Created access request [0-9a-f-]{36}/);
  const id = /([0-9a-f-]{36})/.exec(idLine)[1];

  say('bob lists what he can review, and approves');
  await run('bob', ['request', 'ls', '--reviewable']);
  await run('bob', ['request', 'review', id, '--approve', '--reason', 'ok for ticket 42']);

  say('one approval of two: still pending');
  await run('bob', ['request', 'show', id]);

  say('carol approves too: the threshold is met');
  await run('carol', ['request', 'review', id, '--approve', '--reason', 'lgtm']);

  say("alice's wait returns: approved, and her identity file now carries the request and the dba role");
  const code = await create.exited;
  if (code !== 0) throw new Error(`alice's create exited ${code}, expected 0`);

  say('alice drops the request when done: back to her base roles');
  await run('alice', ['request', 'drop']);

  say('the JSON a script sees');
  await run('alice', ['request', 'show', id, '--format', 'json']);
}

async function stopServer() {
  if (!server?.proc || server.proc.exitCode !== null) return;
  server.proc.kill('SIGTERM');
  await Promise.race([server.exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
}

try {
  await main();
  say('Stop the server and clean up');
  await stopServer();
  process.stdout.write('\ndemo finished: the request loop works end to end\n');
} catch (err) {
  process.stderr.write(`demo failed: ${err.message}\n`);
  process.exitCode = 1;
  await stopServer();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
