import type { Command, OptionValues } from '@commander-js/extra-typings';
import type { Context } from './context.js';

/**
 * One command file: `define` declares the commander command (name, help, arguments,
 * options; no action), `parse` turns the parsed arguments and flags into validated options
 * (throwing UsageError, never touching the network), and `run` does the work and returns an
 * exit code (or nothing for 0). `parse` receives exactly what `define` declares: its
 * arguments as a tuple and its flags as an object typed from the option strings.
 */
export interface CommandModule<A extends unknown[], F extends OptionValues, O> {
  define(): Command<A, F>;
  parse(args: A, flags: F): O;
  run(ctx: Context, opts: O): Promise<number | undefined>;
}

/** The arguments tuple of the command `define` returns. */
export type ArgsOf<D extends () => Command<unknown[], OptionValues>> = ReturnType<D>['processedArgs'];

/** The flags object of the command `define` returns, each typed from its option string. */
export type FlagsOf<D extends () => Command<unknown[], OptionValues>> = ReturnType<ReturnType<D>['opts']>;
