/**
 * End-to-end harness: the embedded server runs in the test process on 127.0.0.1:0 in a
 * temporary directory. Commands run against it in this process through `main(argv, io)`
 * (access, accessJson, startAccess); the real CLI (`node bin/access.cjs`, the bundle in
 * dist/) is spawned only where the process is what is tested: exit codes, pipes, signals,
 * the bundle (runAccess, spawnCli). Waits are on output lines and exits, each with a bound;
 * never sleeps.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { main } from '../../src/cli/main.js';
import { readIdentityFile } from '../../src/identity/identity-file.js';
import type { TeleportIdentity } from '../../src/identity/types.js';
import { parseIdentity } from '../../src/identity/x509.js';
import { AccessError } from '../../src/model/errors.js';
import type { AccessRequest } from '../../src/model/request.js';
import { SCHEMAS, type SchemaName } from '../../src/model/schema.js';
import type { IO } from '../../src/render/io.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { fakeIO } from './run-cli.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'access.cjs');

/** Node IDs of the seed, fixed so tests can name them. */
export const NODE_WEB = '8c3e2a6e-0c1e-4d6a-9a5b-0f9a2b1c3d4e';
export const NODE_DB = '2f1d9c4b-7a3e-4b8f-9c1d-5e6f7a8b9c0d';

/**
 * The seed every e2e test uses: alice may request `dba` (one approval, bob suggested) and
 * `auditor` (two approvals) and search nodes via `node-access`; bob and carol review; admin
 * holds the access_request rules; dave may not request anything.
 */
export const SEED = `
kind: role
version: v7
metadata: { name: requester }
spec:
  allow:
    request:
      roles: [dba]
      search_as_roles: [node-access]
      suggested_reviewers: [bob]
---
kind: role
version: v7
metadata: { name: audit-requester }
spec:
  allow:
    request:
      roles: [auditor]
      thresholds:
        - { name: two-approvals, approve: 2, deny: 1 }
---
kind: role
version: v7
metadata: { name: dba }
spec:
  allow:
    logins: [postgres]
---
kind: role
version: v7
metadata: { name: auditor }
spec:
  allow:
    logins: [audit]
---
kind: role
version: v7
metadata: { name: node-access }
spec:
  allow:
    logins: [ubuntu]
    node_labels: { env: '*' }
    group_labels: { team: eng }
    app_labels: { env: dev }
    rules:
      - { resources: [saml_idp_service_provider], verbs: [list] }
    kubernetes_labels: { '*': '*' }
    kubernetes_resources:
      - { kind: pods, namespace: '*', name: '*' }
---
kind: role
version: v7
metadata: { name: reviewer }
spec:
  allow:
    review_requests:
      roles: [dba, auditor, node-access]
---
kind: role
version: v7
metadata: { name: admin }
spec:
  allow:
    rules:
      - resources: [access_request]
        verbs: [list, read, create, update, delete]
      - resources: [user]
        verbs: [list, read]
      - resources: [lock]
        verbs: [list, read, create, update, delete]
    impersonate:
      users: ['*']
      roles: ['*']
---
kind: role
version: v7
metadata: { name: basic }
spec:
  allow:
    logins: [guest]
---
kind: user
version: v2
metadata: { name: alice }
spec: { roles: [requester, audit-requester] }
---
kind: user
version: v2
metadata: { name: bob }
spec: { roles: [reviewer] }
---
kind: user
version: v2
metadata: { name: carol }
spec: { roles: [reviewer] }
---
kind: user
version: v2
metadata: { name: admin }
spec: { roles: [admin] }
---
kind: user
version: v2
metadata: { name: dave }
spec: { roles: [basic] }
---
kind: node
version: v2
metadata:
  name: ${NODE_WEB}
  labels: { env: prod, team: web }
spec: { hostname: web-1, addr: 10.0.0.1:3022 }
---
kind: node
version: v2
metadata:
  name: ${NODE_DB}
  labels: { env: staging, team: data }
spec: { hostname: db-1, addr: 10.0.0.2:3022 }
---
kind: kube_cluster
version: v3
metadata:
  name: minikube
  labels: { env: dev }
spec: {}
---
kind: kube_resource
version: v1
metadata:
  name: nginx
  labels: { app: web }
spec: { kind: pods, namespace: default, kube_cluster: minikube }
---
kind: kube_resource
version: v1
metadata:
  name: redis
  labels: { app: cache }
spec: { kind: pods, namespace: prod, kube_cluster: minikube }
---
kind: user_group
version: v1
metadata:
  name: okta-eng
  labels: { team: eng }
spec: { applications: [grafana-sso] }
---
kind: user_group
version: v1
metadata:
  name: okta-finance
  labels: { team: finance }
spec: {}
---
kind: saml_idp_service_provider
version: v1
metadata:
  name: grafana-sso
  labels: { env: dev }
spec: { entity_id: 'https://grafana.example.com/saml', acs_url: 'https://grafana.example.com/saml/acs' }
---
kind: saml_idp_service_provider
version: v1
metadata:
  name: payroll-sso
  labels: { env: prod }
spec: { entity_id: 'https://payroll.example.com/saml' }
`;

export interface TestServer {
  dir: string;
  addr: string;
  cluster: string;
  server: RunningServer;
  /** Identity file of a seeded user. */
  identity(user: string): string;
  /** The environment that makes `access` act as `user` against this server. */
  env(user: string): Record<string, string>;
  /** Stops the server (bounded grace), keeping the data directory. */
  stop(): Promise<void>;
  /** Starts it again on the same directory and address. */
  restart(): Promise<void>;
  /** Stops the server and removes the directory. */
  close(): Promise<void>;
}

export interface TestServerOptions {
  sweepIntervalMs?: number;
  /** Seed YAML (default {@link SEED}); null: the server's built-in demo seed. */
  seed?: string | null;
  /** Receives the server's log lines. */
  log?: (line: string) => void;
}

/** Starts a server with {@link SEED} (or `opts.seed`) in a fresh temporary directory. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'access-e2e-'));
  let seedFile: string | undefined;
  if (opts.seed !== null) {
    seedFile = join(dir, 'seed.yaml');
    await writeFile(seedFile, opts.seed ?? SEED);
  }
  const dataDir = join(dir, 'data');
  let server = await startServer({
    dataDir,
    listen: '127.0.0.1:0',
    seedFile,
    sweepIntervalMs: opts.sweepIntervalMs,
    log: opts.log,
  });
  let running = true;
  const addr = server.addr;
  const handle: TestServer = {
    dir,
    addr,
    cluster: server.clusterName,
    get server() {
      return server;
    },
    identity: (user) => server.identityPath(user),
    env: (user) => ({
      PATH: process.env.PATH ?? '',
      HOME: dir,
      ACCESS_AUTH_SERVER: addr,
      ACCESS_IDENTITY: server.identityPath(user),
    }),
    async stop() {
      if (!running) return;
      running = false;
      await server.stop({ graceMs: 500 });
    },
    async restart() {
      await handle.stop();
      server = await startServer({
        dataDir,
        listen: addr,
        sweepIntervalMs: opts.sweepIntervalMs,
        log: opts.log,
      });
      running = true;
    },
    async close() {
      killSpawned();
      await handle.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `access` invocation whose output can be awaited line by line. */
export interface CliRun {
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the match once stderr matches `pattern`; rejects after `timeoutMs` or on exit. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the invocation ends (rejects after `timeoutMs`, stopping it). */
  exited(timeoutMs?: number): Promise<CliExit>;
}

/** A spawned `access` process. */
export interface CliProcess extends CliRun {
  child: ChildProcess;
}

/** An `access` invocation running in this process through `main(argv, io)`. */
export interface InProcessCli extends CliRun {
  /** Stands in for a signal to the process: aborts the IO's signal, as systemIO does. */
  interrupt(signal?: 'SIGINT' | 'SIGTERM'): void;
}

/**
 * Output and exit of one invocation, with waits on them: `changed()` is called on every
 * write and at the exit, and each wait is bounded.
 */
function outputWatch(args: string[], stop: () => void) {
  const state = { stdout: '', stderr: '', exit: undefined as CliExit | undefined };
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const l of [...listeners]) l();
  };
  const show = () => `\nstdout: ${state.stdout}\nstderr: ${state.stderr}`;
  const waitFor = (name: 'stdout' | 'stderr', pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<RegExpMatchArray>((resolveMatch, reject) => {
      const check = () => {
        const m = state[name].match(pattern);
        if (m) {
          done();
          resolveMatch(m);
        } else if (state.exit) {
          done();
          reject(new Error(`access exited (${state.exit.code}) before ${name} matched ${pattern}${show()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${name} to match ${pattern}${show()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  const ended =
    (exit: Promise<CliExit>) =>
    (timeoutMs = 20_000) =>
      new Promise<CliExit>((resolveExit, reject) => {
        const timer = setTimeout(() => {
          stop();
          reject(new Error(`access ${args.join(' ')} did not exit within ${timeoutMs}ms${show()}`));
        }, timeoutMs);
        exit.then((e) => {
          clearTimeout(timer);
          resolveExit(e);
        }, reject);
      });
  const view = (exit: Promise<CliExit>): CliRun => ({
    get stdout() {
      return state.stdout;
    },
    get stderr() {
      return state.stderr;
    },
    waitForStderr: (p, t) => waitFor('stderr', p, t),
    waitForStdout: (p, t) => waitFor('stdout', p, t),
    exited: ended(exit),
  });
  return { state, changed, view };
}

/** Children still running, so a failed test does not leave a waiting CLI behind. */
const live = new Set<ChildProcess>();

/** Kills every spawned CLI that is still running (called by TestServer.close). */
export function killSpawned(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/**
 * Spawns `node bin/access.cjs <args>` (the published bundle) with exactly `env` (no inherited
 * variables). Only for what needs a real process: exit codes, pipes, signals, the bundle.
 */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const { state, changed, view } = outputWatch(args, () => child.kill('SIGKILL'));
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    state.stdout += s;
    changed();
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    state.stderr += s;
    changed();
  });
  const exit = new Promise<CliExit>((resolveExit) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      state.exit = { code, signal, stdout: state.stdout, stderr: state.stderr };
      changed();
      resolveExit(state.exit);
    });
  });
  return Object.assign(view(exit), { child });
}

/** Runs `node bin/access.cjs <args>` to completion (see {@link spawnCli}). */
export function runAccess(args: string[], env: Record<string, string>, timeoutMs?: number): Promise<CliExit> {
  return spawnCli(args, env).exited(timeoutMs);
}

export interface InProcessOptions {
  /** stdout is a terminal (default: a pipe, as for a spawned binary). */
  isTTY?: boolean;
  columns?: number;
}

/**
 * Starts `access <args>` in this process: `main(argv, io)` with an IO that has exactly `env`
 * and the output of a pipe (80 columns, no colour), as the spawned binary would see. The
 * command's behaviour without the cost of a process start.
 */
export function startAccess(
  args: string[],
  env: Record<string, string>,
  opts: InProcessOptions = {},
): InProcessCli {
  const ac = new AbortController();
  let reason: 'SIGINT' | 'SIGTERM' | undefined;
  const interrupt = (sig: 'SIGINT' | 'SIGTERM' = 'SIGINT') => {
    if (ac.signal.aborted) return;
    reason = sig;
    ac.abort(new AccessError('interrupted', `interrupted by ${sig}`));
  };
  const { state, changed, view } = outputWatch(args, () => interrupt('SIGTERM'));
  const sink = (name: 'stdout' | 'stderr') => ({
    write(chunk: string): boolean {
      state[name] += chunk;
      changed();
      return true;
    },
  });
  const io: IO = {
    ...fakeIO({ env, isTTY: opts.isTTY, columns: opts.columns ?? 80, signal: ac.signal }),
    stdout: sink('stdout'),
    stderr: sink('stderr'),
    abortReason: () => reason,
  };
  const exit = main(args, io).then((code) => {
    state.exit = { code, signal: null, stdout: state.stdout, stderr: state.stderr };
    changed();
    return state.exit;
  });
  return Object.assign(view(exit), { interrupt });
}

/** Runs `access <args>` in this process to completion (see {@link startAccess}). */
export function access(
  args: string[],
  env: Record<string, string>,
  opts: InProcessOptions & { timeoutMs?: number } = {},
): Promise<CliExit> {
  return startAccess(args, env, opts).exited(opts.timeoutMs);
}

/** Runs `access <args> --format json` in this process and parses stdout; throws with stderr when it fails. */
export async function accessJson<T = unknown>(args: string[], env: Record<string, string>): Promise<T> {
  const r = await access([...args, '--format', 'json'], env);
  if (r.code !== 0) throw new Error(`access ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Creates a pending request as the user of `env` without waiting; returns it as printed in JSON. */
export async function createPendingAs(
  env: Record<string, string>,
  roles = 'dba',
  reason = 'e2e',
): Promise<AccessRequest> {
  const req = await accessJson<AccessRequest>(
    ['request', 'create', '--roles', roles, '--reason', reason, '--nowait'],
    env,
  );
  expectSchema('request', req);
  return req;
}

let ajv: Ajv2020 | undefined;

/** Fails the test unless `value` matches the documented JSON schema `name`. */
export function expectSchema(name: SchemaName, value: unknown): void {
  ajv ??= new Ajv2020({ strict: true, allErrors: true });
  if (!ajv.getSchema(name)) ajv.addSchema(SCHEMAS[name], name);
  const validate = ajv.getSchema(name)!;
  if (!validate(value)) {
    throw new Error(
      `output does not match schema ${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value, null, 2)}`,
    );
  }
}

/** The identity inside an identity file's certificate. */
export async function identityOf(path: string): Promise<TeleportIdentity> {
  return parseIdentity((await readIdentityFile(path)).certPem);
}

/** A private copy of a user's identity file, so a test that re-issues it does not affect others. */
export async function copyIdentity(
  server: TestServer,
  user: string,
): Promise<{ path: string; env: Record<string, string> }> {
  const path = join(server.dir, `${user}-${Math.random().toString(36).slice(2)}.pem`);
  await copyFile(server.identity(user), path);
  await chmod(path, 0o600);
  return { path, env: { ...server.env(user), ACCESS_IDENTITY: path } };
}
