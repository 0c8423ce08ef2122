import type { IO } from './io.js';

/** Progress on stderr; a no-op unless stderr is a TTY, so pipes and logs stay clean. */
export interface Spinner {
  /** Whether a spinner is drawn (stderr is a terminal); otherwise update() shows nothing. */
  readonly live: boolean;
  update(text: string): void;
  /** Prints a line on stderr without garbling the spinner. */
  log(line: string): void;
  stop(): void;
}

/**
 * Starts an ora spinner with `text` when stderr is a TTY. ora is imported only here and
 * only then, to keep start-up of every other command light.
 */
export async function startSpinner(io: IO, text: string): Promise<Spinner> {
  // ora sizes its redraws by the terminal width; a terminal that reports none (some CI
  // pseudo-terminals) would make it erase lines without end.
  const width = (io.stderr as { columns?: number }).columns ?? 0;
  if (!io.stderrIsTTY || !(width > 0)) {
    return {
      live: false,
      update() {},
      log: (line) => io.stderr.write(`${line}\n`),
      stop() {},
    };
  }
  const { default: ora } = await import('ora');
  const spinner = ora({
    text,
    stream: io.stderr as NodeJS.WritableStream,
    isEnabled: true,
    color: io.color ? 'cyan' : false,
    discardStdin: false,
  }).start();
  return {
    live: true,
    update(t) {
      spinner.text = t;
    },
    log(line) {
      spinner.clear();
      io.stderr.write(`${line}\n`);
      spinner.render();
    },
    stop() {
      spinner.stop();
    },
  };
}
