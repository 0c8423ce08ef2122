/**
 * Contract-test harness: builds the Go programs of test/contract/go (which link Teleport's
 * official `github.com/gravitational/teleport/api` module) and runs them. Every wait is on
 * an output line or an exit, with a bound; nothing sleeps.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const GO_DIR = join(ROOT, 'test', 'contract', 'go');
export const GO_BIN = join(GO_DIR, 'bin');

/** The Go programs under test/contract/go/cmd. */
export type GoProgram = 'fixtures-server' | 'official-client' | 'schema-dump' | 'go-parse';

/**
 * A cold build with the module cache empty took 5m43s here (mostly downloading); keep it
 * under the contract config's 10-minute hook timeout so the error is ours.
 */
const BUILD_TIMEOUT_MS = 9 * 60_000;

function goEnv(): NodeJS.ProcessEnv {
  // VCS stamping needs git metadata a fresh CI clone may not expose the same way; the
  // binaries are test tools, so it adds nothing.
  const flags = [process.env.GOFLAGS ?? '', '-buildvcs=false'].join(' ').trim();
  return { ...process.env, GOFLAGS: flags };
}

function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs: number; input?: string }) {
  return new Promise<{ stdout: string; stderr: string; code: number }>((resolvePromise, reject) => {
    const child = execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: goEnv(), timeout: opts.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
          return;
        }
        resolvePromise({ stdout, stderr, code: err ? Number(err.code) : 0 });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

const built = new Map<GoProgram, Promise<string>>();

/**
 * Builds one Go program into test/contract/go/bin (once per test file; Go's build cache
 * makes a rebuild of unchanged sources take a second or two) and returns its path.
 */
export function buildGo(program: GoProgram): Promise<string> {
  let p = built.get(program);
  if (!p) {
    p = (async () => {
      const out = join(GO_BIN, program);
      const { code, stderr } = await run('go', ['build', '-o', out, `./cmd/${program}`], {
        cwd: GO_DIR,
        timeoutMs: BUILD_TIMEOUT_MS,
      });
      if (code !== 0) throw new Error(`go build ./cmd/${program} failed:\n${stderr}`);
      return out;
    })();
    built.set(program, p);
  }
  return p;
}

/** Runs a built Go program to completion. */
export async function runGo(
  program: GoProgram,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ stdout: string; stderr: string; code: number }> {
  const bin = await buildGo(program);
  return run(bin, args, { timeoutMs });
}

/** Spawns a long-running Go program and resolves with the address of its `listening on ADDR` line. */
async function spawnListening(bin: string, args: string[], timeoutMs: number) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: goEnv() });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const addr = await new Promise<string>((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${bin} did not start within ${timeoutMs}ms: ${stderr}`));
    }, timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited with ${code} before listening: ${stderr}`));
    });
  });
  return { child, addr, stderr: () => stderr };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}

/** One call as the Go server decoded it. */
export interface RecordedCall {
  method: string;
  /** CN of the verified client certificate. */
  caller: string;
  /** The decoded request, in the camelCase shape of our generated types (see view.go). */
  decoded: Record<string, unknown>;
}

export interface FixturesServer {
  addr: string;
  dir: string;
  certPath: string;
  keyPath: string;
  caPath: string;
  /** Every call recorded so far, oldest first. */
  records(): Promise<RecordedCall[]>;
  /** The newest call of `method`; throws when there is none. */
  lastCall(method: string): Promise<RecordedCall>;
  stop(): Promise<void>;
}

/** Starts the Go fixtures server; it writes a client trio (CN alice) into a temp dir. */
export async function startFixturesServer(opts: { key?: 'ecdsa' | 'rsa' } = {}): Promise<FixturesServer> {
  const bin = await buildGo('fixtures-server');
  const dir = await mkdtemp(join(tmpdir(), 'access-contract-'));
  const recordPath = join(dir, 'calls.jsonl');
  await writeFile(recordPath, '', { mode: 0o600 });
  let started: Awaited<ReturnType<typeof spawnListening>>;
  try {
    started = await spawnListening(
      bin,
      ['-creds-dir', dir, '-record', recordPath, '-key', opts.key ?? 'ecdsa'],
      30_000,
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const records = async (): Promise<RecordedCall[]> =>
    (await readFile(recordPath, 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as RecordedCall);
  return {
    addr: started.addr,
    dir,
    certPath: join(dir, 'auth.crt'),
    keyPath: join(dir, 'auth.key'),
    caPath: join(dir, 'auth.cas'),
    records,
    async lastCall(method) {
      const calls = (await records()).filter((c) => c.method === method);
      const last = calls.at(-1);
      if (!last) throw new Error(`the Go server recorded no ${method} call`);
      return last;
    },
    async stop() {
      await stopChild(started.child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A timestamp as the Go views write it. */
export interface GoTimestamp {
  seconds: number;
  nanos: number;
}

/** Go's zero `time.Time` (0001-01-01T00:00:00Z) in Unix seconds. */
export const GO_ZERO_SECONDS = -62_135_596_800;

/**
 * The Date ts-proto (useDate) decodes a Go timestamp into: it adds nanos/1e6 to the
 * milliseconds in floating point, so sub-millisecond digits are cut off, except that
 * .999999999 rounds up to the next second. null (a nil Go pointer, absent on the wire)
 * → undefined.
 */
export function goDate(t: GoTimestamp | null): Date | undefined {
  if (t === null) return undefined;
  return new Date(t.seconds * 1000 + t.nanos / 1e6);
}

/** Our model's RFC 3339 form of a Go timestamp: null when Go's value is nil or zero. */
export function goIso(t: GoTimestamp | null): string | null {
  if (t === null || t.seconds <= GO_ZERO_SECONDS) return null;
  const iso = (goDate(t) as Date).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** The Go view of a Date we sent, for comparing with what Go decoded. */
export function asGoTimestamp(d: Date): GoTimestamp {
  const ms = d.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
}

/** Makes and removes a temp dir around a test body. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'access-contract-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
