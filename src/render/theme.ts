import { Chalk } from 'chalk';
import type { IO } from './io.js';

/** The styles tables use; never global chalk, so colour follows the injected IO. */
export interface Theme {
  bold(s: string): string;
  state(name: string): string;
}

/** A theme whose chalk has level 0 (plain text) unless `color` is on. */
export function makeTheme(color: boolean): Theme {
  const chalk = new Chalk({ level: color ? 1 : 0 });
  return {
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
