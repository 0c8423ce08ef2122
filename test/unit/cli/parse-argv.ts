import { Command, type OptionValues } from '@commander-js/extra-typings';
import type { CommandModule } from '../../../src/cli/command.js';
import { addGlobalOptions, type GlobalOptions, resolveGlobalOptions } from '../../../src/cli/options.js';

/**
 * Parses argv (from the root: `[...rootFlags, name, ...]`) the way program.ts attaches a
 * command: a root with the global options, the command below it with the hidden globals it
 * does not define itself. Returns what the command's `parse` and the global resolver make of
 * it; commander's usage errors and parse's UsageErrors are thrown, and nothing is printed.
 */
export function parseArgv<A extends unknown[], F extends OptionValues, O>(
  mod: Pick<CommandModule<A, F, O>, 'define' | 'parse'>,
  argv: string[],
  env: Record<string, string> = {},
): { opts: O; globals: GlobalOptions } {
  const root = new Command('access')
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  addGlobalOptions(root);
  const leaf = mod.define();
  leaf.copyInheritedSettings(root);
  addGlobalOptions(leaf);
  let result: { opts: O; globals: GlobalOptions } | undefined;
  leaf.action(() => {
    result = {
      globals: resolveGlobalOptions(env, '/home/u', leaf),
      opts: mod.parse(leaf.processedArgs, leaf.opts()),
    };
  });
  root.addCommand(leaf);
  root.parse(argv, { from: 'user' });
  if (!result) throw new Error('the command did not run');
  return result;
}
