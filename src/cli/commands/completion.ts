import { Argument, Command } from '@commander-js/extra-typings';
import type { ArgsOf } from '../command.js';
import type { Context } from '../context.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionOptions {
  shell: Shell;
}

export function define() {
  return new Command('completion')
    .description(
      'Print a shell completion script, generated from the command tree.\n' +
        'bash sources it; zsh and fish read it from a file in a folder they search, made first.\n' +
        'For zsh, put fpath=(~/.zfunc $fpath) in ~/.zshrc.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  source <(access completion bash)\n' +
        '  mkdir -p ~/.zfunc\n' +
        '  access completion zsh \\\n' +
        '    > ~/.zfunc/_access\n' +
        '  mkdir -p ~/.config/fish/completions\n' +
        '  access completion fish > \\\n' +
        '  ~/.config/fish/completions/access.fish',
    )
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS));
}

export function parse([shell]: ArgsOf<typeof define>): CompletionOptions {
  return { shell };
}

export async function run(ctx: Context, opts: CompletionOptions): Promise<number> {
  const [{ buildProgram, loadCommands }, { describe }, generator] = await Promise.all([
    import('../program.js'),
    import('../docs/tree.js'),
    opts.shell === 'bash'
      ? import('../docs/bash.js').then((m) => m.bashCompletion)
      : opts.shell === 'zsh'
        ? import('../docs/zsh.js').then((m) => m.zshCompletion)
        : import('../docs/fish.js').then((m) => m.fishCompletion),
  ]);
  ctx.io.stdout.write(generator(describe(buildProgram(ctx, {}, await loadCommands()))));
  return 0;
}
