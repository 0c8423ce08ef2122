import { Chalk, type ChalkInstance } from 'chalk';
import type { IO } from './io.js';

/** The semantic palette commands use; never global chalk, so colour follows the injected IO. */
export interface Theme {
  chalk: ChalkInstance;
  error(s: string): string;
  warn(s: string): string;
  success(s: string): string;
  muted(s: string): string;
  bold(s: string): string;
  state(name: string): string;
}

/** A theme whose chalk has level 0 (plain text) unless `color` is on. */
export function makeTheme(color: boolean): Theme {
  const chalk = new Chalk({ level: color ? 1 : 0 });
  return {
    chalk,
    error: (s) => chalk.red(s),
    warn: (s) => chalk.yellow(s),
    success: (s) => chalk.green(s),
    muted: (s) => chalk.gray(s),
    bold: (s) => chalk.bold(s),
    state(name) {
      if (name === 'APPROVED' || name === 'PROMOTED') return chalk.green(name);
      if (name === 'DENIED') return chalk.red(name);
      if (name === 'PENDING') return chalk.yellow(name);
      return name;
    },
  };
}

export function themeFor(io: IO): Theme {
  return makeTheme(io.color);
}
