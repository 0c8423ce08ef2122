/**
 * An IO that keeps what is written, for running the program in-process where the tree is
 * described at build time (help templates, docs).
 */
import type { IO } from '../../render/io.js';

export interface CaptureIO extends IO {
  stdoutText(): string;
  stderrText(): string;
}

/** Output of `columns` width, a terminal or a pipe; no colour; exactly `env`. */
export function captureIO(
  out: { isTTY: boolean; columns: number },
  env: Readonly<Record<string, string | undefined>> = {},
): CaptureIO {
  let stdout = '';
  let stderr = '';
  return {
    stdout: {
      write: (s: string) => {
        stdout += s;
        return true;
      },
    },
    stderr: {
      write: (s: string) => {
        stderr += s;
        return true;
      },
    },
    stdoutIsTTY: out.isTTY,
    stderrIsTTY: out.isTTY,
    columns: out.columns,
    color: false,
    env,
    now: () => new Date(),
    stdoutText: () => stdout,
    stderrText: () => stderr,
  };
}
