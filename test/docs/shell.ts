/**
 * Runs documentation shell blocks as a reader would: with `bash`, `access` on PATH (a shim
 * for the built bin/access.cjs), in a private HOME, each block in a named terminal whose
 * exported variables carry over to its next block. Waits are on output and exits, each
 * bounded; a block that waits on someone else runs concurrently, as in a second terminal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../helpers/e2e.js';
import { shownOutputs } from './blocks.js';

const MARK = '\x1e';

export interface BlockRun {
  readonly output: string;
  /** Resolves with the match once the output matches; rejects at `timeoutMs` or when the block ends first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code; rejects (killing the block) at `timeoutMs`. */
  exited(timeoutMs?: number): Promise<number | null>;
  /** Ctrl-C: SIGINT to the block's process group, as a terminal sends it. */
  interrupt(): void;
  /** What the command on `line` of the block printed (so far, while it runs). */
  outputOf(line: number): string;
}

export interface DocShell {
  /** The reader's HOME. */
  home: string;
  /** A scratch directory, the terminals' working directory unless told otherwise. */
  work: string;
  /** PATH with the `access` shim and the stand-ins first. */
  path: string;
  /** Adds a stand-in command (a shell script body) to the PATH. */
  standIn(name: string, script: string): Promise<void>;
  /** Starts `text` in terminal `terminal`, with `env` exported first; see {@link BlockRun}. */
  start(
    text: string,
    opts?: { terminal?: string; env?: Record<string, string>; cwd?: string },
  ): Promise<BlockRun>;
  /** Stops every block still running and removes the directories. */
  close(): Promise<void>;
}

export async function docShell(): Promise<DocShell> {
  const base = await mkdtemp(join(tmpdir(), 'access-doc-'));
  const home = join(base, 'home');
  const work = join(base, 'work');
  const bin = join(base, 'bin');
  const state = join(base, 'terminals');
  await Promise.all([home, work, bin, state].map((d) => mkdir(d, { recursive: true })));
  const shim = `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`;
  await writeFile(join(bin, 'access'), shim, { mode: 0o755 });
  const path = `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  const live = new Set<ChildProcess>();
  let n = 0;

  const start: DocShell['start'] = async (text, opts = {}) => {
    const id = n++;
    const terminal = join(state, `${opts.terminal ?? 'reader'}.sh`);
    const shown = new Map(shownOutputs(text).map((c) => [c.line, c]));
    const script = join(base, `block-${id}.sh`);
    // What the reader is told to set before the block, over what the terminal has.
    const exports = Object.entries(opts.env ?? {}).map(([k, v]) => `export ${k}=${q(v)}`);
    let file: string;
    if (text.startsWith('#!')) {
      // A whole script: run as written, by its own interpreter line, with the terminal's exports.
      const body = join(base, `script-${id}`);
      await writeFile(body, text, { mode: 0o755 });
      file = [`[ -f ${q(terminal)} ] && . ${q(terminal)}`, ...exports, `exec ${q(body)}`].join('\n');
    } else {
      const lines = text.replace(/\n$/, '').split('\n');
      const body = lines.flatMap((l, i) =>
        shown.has(i) ? [`printf '${MARK}begin ${i}\\n'`, l, `printf '${MARK}end ${i}\\n'`] : [l],
      );
      file = [
        `[ -f ${q(terminal)} ] && . ${q(terminal)}`,
        ...exports,
        `trap 'export -p > ${q(terminal)}' EXIT`,
        `trap 'echo "${MARK}failed (exit $?): $BASH_COMMAND"' ERR`,
        'set -eE -o pipefail',
        ...body,
      ].join('\n');
    }
    await writeFile(script, `exec 2>&1\n${file}\n`);
    const child = spawn('bash', [script], {
      cwd: opts.cwd ?? work,
      env: { PATH: path, HOME: home, LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    live.add(child);
    let output = '';
    let code: number | null | undefined;
    const listeners = new Set<() => void>();
    const changed = () => {
      for (const l of [...listeners]) l();
    };
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      output += s;
      changed();
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      output += s;
      changed();
    });
    const exit = new Promise<number | null>((resolve) =>
      child.on('close', (c, signal) => {
        live.delete(child);
        code = c ?? (signal ? 128 : null);
        changed();
        resolve(code);
      }),
    );
    const show = () => `\n--- block output ---\n${output}--- end ---`;
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    return {
      get output() {
        return output;
      },
      waitFor(pattern, timeoutMs = 20_000) {
        return new Promise((resolve, reject) => {
          const check = () => {
            const m = output.match(pattern);
            if (m) {
              done();
              resolve(m);
            } else if (code !== undefined) {
              done();
              reject(
                new Error(`the block ended (exit ${code}) before its output matched ${pattern}${show()}`),
              );
            }
          };
          const timer = setTimeout(() => {
            done();
            reject(new Error(`timed out waiting for ${pattern}${show()}`));
          }, timeoutMs);
          const done = () => {
            clearTimeout(timer);
            listeners.delete(check);
          };
          listeners.add(check);
          check();
        });
      },
      exited(timeoutMs = 30_000) {
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            signalGroup('SIGKILL');
            reject(new Error(`the block did not end within ${timeoutMs}ms${show()}`));
          }, timeoutMs);
          exit.then((c) => {
            clearTimeout(timer);
            if (c !== 0) {
              reject(new Error(`the block failed (exit ${c})${show()}`));
              return;
            }
            resolve(c);
          });
        });
      },
      interrupt: () => signalGroup('SIGINT'),
      outputOf(line) {
        const begin = `${MARK}begin ${line}\n`;
        const at = output.indexOf(begin);
        if (at < 0) return '';
        const rest = output.slice(at + begin.length);
        const end = rest.indexOf(`${MARK}end ${line}\n`);
        return end < 0 ? rest : rest.slice(0, end);
      },
    };
  };

  return {
    home,
    work,
    path,
    async standIn(name, body) {
      await writeFile(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
      await chmod(join(bin, name), 0o755);
    },
    start,
    async close() {
      for (const child of live) {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      live.clear();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** Single-quotes a path for bash. */
function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
