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
        'bash: source <(access completion bash); zsh: access completion zsh > ~/.zfunc/_access (on $fpath);\n' +
        'fish: access completion fish > ~/.config/fish/completions/access.fish',
    )
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS));
}

export function parse([shell]: ArgsOf<typeof define>): CompletionOptions {
  return { shell };
}

export async function run(ctx: Context, opts: CompletionOptions): Promise<number> {
  const [{ buildProgram, loadCommands }, docs] = await Promise.all([
    import('../program.js'),
    import('../docs.js'),
  ]);
  const tree = docs.describe(buildProgram(ctx, {}, await loadCommands()));
  const script =
    opts.shell === 'bash'
      ? docs.bashCompletion(tree)
      : opts.shell === 'zsh'
        ? docs.zshCompletion(tree)
        : docs.fishCompletion(tree);
  ctx.io.stdout.write(script);
  return 0;
}
