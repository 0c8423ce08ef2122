import { CommanderError } from '@commander-js/extra-typings';
import { AccessError, EXIT_CODES, oneLine } from '../model/errors.js';
import { clipText } from '../model/limits.js';
import { escapeControls } from '../render/escape.js';
import {
  type ChildExit,
  type ChildHandle,
  colorFromEnv,
  handleStdoutErrors,
  type IO,
  type TrappedSignal,
  terminalColumns,
} from '../render/io.js';
import { CliContext } from './context.js';
import { runProgram } from './program.js';
import { tshNameHint } from './tsh-names.js';

/** What main prints for a failure, and the exit code it returns. */
export interface ErrorReport {
  code: number;
  /** One line, without the `error: ` prefix; empty when nothing is printed. */
  message: string;
  hint?: string;
}

/**
 * The one mapping from failures to exit codes (spec/cli.md): AccessError kinds (RpcError is
 * one; a seed file error is a UsageError) through EXIT_CODES, commander usage errors → 2, an abort after
 * SIGINT → 130, anything else → 1.
 */
export function reportFor(err: unknown, io?: IO): ErrorReport {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') {
      return { code: 0, message: '' };
    }
    // Help was shown because a command group was called without a command.
    if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') {
      return { code: EXIT_CODES.usage, message: '' };
    }
    const lines = err.message.split('\n').filter((l) => l.trim() !== '');
    const message = (lines[0] ?? 'invalid usage').replace(/^error: /, '');
    const suggestion = lines
      .slice(1)
      .join(' ')
      .match(/Did you mean (.+)\?/);
    const path = (err as { commandPath?: string }).commandPath ?? 'access';
    return {
      code: EXIT_CODES.usage,
      message,
      hint: suggestion
        ? `did you mean ${suggestion[1]}?`
        : (tshNameHint(message, path) ?? `run \`${path} --help\` for usage`),
    };
  }
  if (err instanceof AccessError) {
    // A wait cut short by SIGTERM is a stop request, not Ctrl-C: 143, as shells report it.
    const kind = err.kind === 'interrupted' && io?.abortReason?.() === 'SIGTERM' ? 'terminated' : err.kind;
    return { code: EXIT_CODES[kind] ?? 1, message: oneLine(err.message), hint: err.hint };
  }
  if (io?.signal?.aborted && io.abortReason?.() !== 'SIGTERM') {
    return { code: EXIT_CODES.interrupted, message: 'interrupted' };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: EXIT_CODES.failure, message: oneLine(message) || 'unexpected error' };
}

/**
 * Runs one `access` invocation and returns its exit code. The only place where errors
 * become exit codes and where `error:`/`hint:` lines are printed; never exits the process.
 */
export async function main(argv: string[], io: IO): Promise<number> {
  const ctx = new CliContext(io);
  let code = 0;
  try {
    await runProgram(ctx, argv, {
      onExit: (c) => {
        code = c;
      },
    });
    return code;
  } catch (err) {
    const debug = ctx.debug || argv.includes('--debug');
    const report = reportFor(err, io);
    // Messages carry server text and user input: escaped, so they stay one harmless line.
    if (report.message) io.stderr.write(`error: ${escapeControls(clipText(report.message))}\n`);
    if (report.hint) io.stderr.write(`hint: ${escapeControls(report.hint)}\n`);
    if (debug && err instanceof Error && err.stack && !(err instanceof CommanderError)) {
      io.stderr.write(`${err.stack}\n`);
    }
    return report.code;
  } finally {
    await ctx.close();
  }
}

/** Starts a child that shares our terminal; errors to start it reject `exited`. */
function spawnChild(command: string, args: readonly string[], env: Record<string, string>): ChildHandle {
  // Fetched here: child_process (with dgram and net) costs start-up to every other command.
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(command, args, { env, stdio: 'inherit' });
  const exited = new Promise<ChildExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    kill: (signal) => child.exitCode === null && child.signalCode === null && child.kill(signal),
    exited,
  };
}

/**
 * The real process as an IO. SIGINT and SIGTERM abort `signal` (commands that wait or
 * stream end cleanly); a second SIGINT exits at once with 130. While a trap is set
 * (trapSignals), SIGINT, SIGTERM and SIGHUP go to the trap instead.
 */
export function systemIO(): IO {
  const controller = new AbortController();
  let reason: 'SIGINT' | 'SIGTERM' | undefined;
  let trap: ((sig: TrappedSignal) => void) | undefined;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => {
    if (trap) {
      trap(sig);
      return;
    }
    if (controller.signal.aborted) {
      if (sig === 'SIGINT') process.exit(EXIT_CODES.interrupted);
      return;
    }
    reason = sig;
    controller.abort(new AccessError('interrupted', `interrupted by ${sig}`));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const stdoutIsTTY = process.stdout.isTTY === true;
  handleStdoutErrors(process.stdout);
  // Asked of the descriptors: process.stdin and process.stderr build their streams on first use.
  const { isatty } = process.getBuiltinModule('node:tty');
  const stderrIsTTY = isatty(2);
  return {
    // A getter: process.stdin builds its stream on first use, which only `access mcp` needs.
    get stdin() {
      return process.stdin;
    },
    self: { execPath: process.execPath, script: process.argv[1] ?? '' },
    stdout: process.stdout,
    get stderr() {
      return process.stderr;
    },
    stdoutIsTTY,
    stderrIsTTY,
    columns: terminalColumns(process.stdout),
    color: colorFromEnv(process.env, stdoutIsTTY),
    env: process.env,
    now: () => new Date(),
    signal: controller.signal,
    abortReason: () => reason,
    ...(isatty(0) && stderrIsTTY
      ? { ask: async (question: string) => (await import('../render/prompt.js')).askLine(question) }
      : {}),
    spawnChild,
    processes: {
      pid: process.pid,
      uid: process.getuid?.(),
      alive(pid) {
        try {
          process.kill(pid, 0);
          return true;
        } catch (err) {
          return (err as NodeJS.ErrnoException).code === 'EPERM';
        }
      },
    },
    trapSignals(handler) {
      if (trap) throw new Error('signals are already trapped');
      trap = handler;
      // SIGHUP keeps its default (exit) unless trapped: only a foreground child needs it passed on.
      const onHup = () => handler('SIGHUP');
      process.on('SIGHUP', onHup);
      return () => {
        process.off('SIGHUP', onHup);
        if (trap === handler) trap = undefined;
      };
    },
  };
}
