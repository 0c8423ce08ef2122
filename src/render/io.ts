import { EXIT_CODES } from '../model/errors.js';

/** Anything output can be written to: a process stream, or a string buffer in tests. */
export interface Writable {
  /** `false` (a stream's backpressure) means: wait for 'drain' before writing more. */
  write(chunk: string): unknown;
  /** A stream's event registration, to wait for 'drain'. */
  once?(event: 'drain' | 'close' | 'error', listener: () => void): unknown;
  off?(event: 'drain' | 'close' | 'error', listener: () => void): unknown;
}

/**
 * Writes `chunk` and, when the stream says its buffer is full, resolves only once the
 * reader has caught up (or the stream is gone). Output produced page by page then stays
 * bounded by a page however slowly stdout is read, instead of queueing in memory.
 */
export async function writeWithBackpressure(out: Writable, chunk: string): Promise<void> {
  if (out.write(chunk) === false) await drained(out);
}

/**
 * Resolves once `out` has room again after a write that returned false: on 'drain', or when
 * the stream is gone ('close', 'error'). At once for a destination without events.
 */
export async function drained(out: Writable): Promise<void> {
  if (!out.once) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      for (const event of ['drain', 'close', 'error'] as const) out.off?.(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'error'] as const) out.once?.(event, done);
  });
}

/** How a child process ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process started through {@link IO.spawnChild}. */
export interface ChildHandle {
  /** Sends `signal` to the child; false when it has already exited. */
  kill(signal: NodeJS.Signals): boolean;
  /** Settles when the child has exited; rejects (with the errno error) when it could not be started. */
  readonly exited: Promise<ChildExit>;
}

/** The signals a foreground child takes over from us while it runs. */
export type TrappedSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/**
 * Everything a command may know about its surroundings. Nothing below cli/main.ts reads
 * `process`: streams, TTY-ness, environment, clock and cancellation all come from here,
 * so tests can run the whole CLI in-process with a fake IO.
 */
export interface IO {
  /** The process's standard input, for `access mcp` (the protocol's stream); absent in tests that give none. */
  readonly stdin?: NodeJS.ReadableStream;
  /** How this installation is started (`access mcp --print-config`): Node and the script it runs. */
  readonly self?: { execPath: string; script: string };
  stdout: Writable;
  stderr: Writable;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Terminal width of stdout; 80 when unknown. */
  columns: number;
  /** Whether colour may be used (already resolved from the TTY, NO_COLOR and FORCE_COLOR). */
  color: boolean;
  env: Readonly<Record<string, string | undefined>>;
  now(): Date;
  /** Aborted on SIGINT/SIGTERM; commands that wait or stream end when it fires. */
  signal?: AbortSignal;
  /** Which signal aborted `signal`; `SIGTERM` is a stop request, not an interruption. */
  abortReason?(): 'SIGINT' | 'SIGTERM' | undefined;
  /**
   * Asks the person at the terminal one question (echoed, editable); present only when stdin
   * and stderr are a TTY. Rejects with `interrupted` on Ctrl-C.
   */
  ask?(question: string): Promise<string>;
  /**
   * Starts `command` with our stdin, stdout and stderr and exactly `env`. Absent where no
   * process can be started (an in-process test that does not provide one).
   */
  spawnChild?(command: string, args: readonly string[], env: Record<string, string>): ChildHandle;
  /**
   * Until the returned function is called, SIGINT, SIGTERM and SIGHUP go to `handler`
   * instead of aborting `signal` (and a second SIGINT no longer exits at once): a command
   * running a program in the foreground passes them on and cleans up after it.
   */
  trapSignals?(handler: (signal: TrappedSignal) => void): () => void;
  /** Our PID and user, and whether a PID runs (exec's temporary identities); absent in tests that do not need it. */
  processes?: { pid: number; uid: number | undefined; alive(pid: number): boolean };
}

/**
 * Resolves whether colour is on: NO_COLOR (any non-empty value) always wins, then a
 * FORCE_COLOR other than `0`/`false`, then the TTY.
 */
export function colorFromEnv(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return isTTY;
}

/** What is known of a terminal output: process.stdout, or what a test stands in for it. */
export interface TerminalOutput {
  isTTY?: boolean;
  columns?: number;
}

/** The width help and tables fit on a terminal: its columns, 80 when it does not say. */
export function terminalColumns(out: TerminalOutput): number {
  return out.columns || 80;
}

/**
 * What a failed write to stdout does. EPIPE (output piped into `head`) ends the process
 * quietly, as other CLIs do. Any other failure (`> /dev/full`: ENOSPC, EIO) means output was
 * lost: it ends the process with exit code 1 (failure) and says why on stderr, instead of the
 * command's own exit code 0.
 */
export function handleStdoutErrors(stdout: NodeJS.WriteStream): void {
  stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    const reason = e.code === 'ENOSPC' ? 'no space left on device' : (e.code ?? e.message);
    process.stderr.write(`error: cannot write to standard output: ${reason}\n`);
    process.exit(EXIT_CODES.failure);
  });
}
