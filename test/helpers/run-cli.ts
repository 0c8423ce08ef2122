import { main } from '../../src/cli/main.js';
import { colorFromEnv, type IO } from '../../src/render/io.js';

/** A string sink with the Writable shape IO needs. */
export class Capture {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

export interface FakeIOOptions {
  env?: Record<string, string | undefined>;
  /** Both streams are TTYs (default false). */
  isTTY?: boolean;
  columns?: number;
  now?: () => Date;
  signal?: AbortSignal;
  /** Which signal `signal` stands for when it aborts (default SIGINT). */
  abortSignal?: 'SIGINT' | 'SIGTERM';
  /** Stands in for the person at a terminal: IO.ask. */
  ask?: (question: string) => Promise<string>;
}

/** An IO whose output is captured in memory; nothing reads `process`. */
export function fakeIO(opts: FakeIOOptions = {}): IO & { out: Capture; err: Capture } {
  const out = new Capture();
  const err = new Capture();
  const env = opts.env ?? {};
  const tty = opts.isTTY ?? false;
  return {
    out,
    err,
    stdout: out,
    stderr: err,
    stdoutIsTTY: tty,
    stderrIsTTY: false,
    columns: opts.columns ?? 100,
    color: colorFromEnv(env, tty),
    env,
    now: opts.now ?? (() => new Date()),
    signal: opts.signal,
    abortReason: () => (opts.signal?.aborted ? (opts.abortSignal ?? 'SIGINT') : undefined),
    ...(opts.ask ? { ask: opts.ask } : {}),
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `access <argv>` in-process against a fake IO. The environment is exactly `env`
 * (plus HOME pointing nowhere useful unless given), so the caller's shell never leaks in.
 */
export async function runCli(argv: string[], opts: FakeIOOptions = {}): Promise<CliResult> {
  const io = fakeIO({ ...opts, env: { HOME: '/nonexistent-home', ...opts.env } });
  const code = await main(argv, io);
  return { code, stdout: io.out.text, stderr: io.err.text };
}
