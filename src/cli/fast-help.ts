/**
 * `access [command...] --help` answered from templates written at build time, before the
 * bundle loads. The help of a command is fixed text but for its wrapping, which follows the output's
 * width: a template is a command's help with its wrapped pieces cut out, and they are
 * wrapped here by commander's own Help, as the program would. So `--help` needs neither the
 * command tree nor commander's Command, only this module and one template. Anything that is not
 * exactly a command path and `--help`/`-h` goes through the program as before.
 * docs/help-table.ts makes the templates from the program itself; scripts/bundle.mjs writes them, and
 * test/unit/cli/fast-help.test.ts holds the two to the same bytes at every width.
 */
import { Help } from '@commander-js/extra-typings';
import { type TerminalOutput, terminalColumns } from '../render/io.js';

// bin/access.cjs loads only this module on the help path.
export { handleStdoutErrors } from '../render/io.js';

/** A wrapped piece of help: a paragraph, or a term with its description (an option, a command). */
export type HelpPiece = { paragraph: string } | { term: string; termWidth: number; description: string };

/** One command's help, each piece replaced by {@link pieceMark} of its index. */
export interface HelpTemplate {
  template: string;
  pieces: HelpPiece[];
}

/** The file of a command path's template in the table's directory: `access_request_ls.json`. */
export function helpFileName(path: readonly string[]): string {
  return `${['access', ...path].join('_')}.json`;
}

/** Where help wraps when stdout is not a terminal (program.ts, getOutHelpWidth). */
export const PIPE_HELP_WIDTH = 100;

/** Stands for piece `i` in a template: NUL never appears in help text. */
export const pieceMark = (i: number): string => `\u0000${i}\u0000`;

/** Narrower than this, an option's or command's description goes on the lines under its term. */
const MIN_DESCRIPTION_WIDTH = 30;

/**
 * How help fits any terminal width ≥ 40 (issue 23), on top of commander's Help, which leaves a
 * description unwrapped (and the line over the width) when its column would be narrower than
 * 40: wrap down to narrow widths, put a description that has no room beside its term on the
 * lines below it, and wrap the usage line. The program (program.ts) and the templates here use
 * the same, so both print the same bytes.
 */
export const HELP_LAYOUT = {
  minWidthToWrap: 10,
  formatItem(this: Help, term: string, termWidth: number, description: string, helper: Help): string {
    const width = this.helpWidth ?? 80;
    if (!description || width - termWidth - 4 >= MIN_DESCRIPTION_WIDTH) {
      return Help.prototype.formatItem.call(this, term, termWidth, description, helper);
    }
    return `  ${term}\n${helper.boxWrap(description, width - 6).replace(/^(?=.)/gm, '      ')}`;
  },
  formatHelp(this: Help, cmd: Parameters<Help['formatHelp']>[0], helper: Help): string {
    const text = Help.prototype.formatHelp.call(this, cmd, helper);
    const end = text.indexOf('\n');
    return helper.boxWrap(text.slice(0, end), this.helpWidth ?? 80) + text.slice(end);
  },
};

/** A template's help at `width`, wrapped as commander wraps it. */
export function renderTemplate({ template, pieces }: HelpTemplate, width: number): string {
  const help = Object.assign(new Help(), HELP_LAYOUT);
  help.prepareContext({ helpWidth: width });
  return template.replace(/\u0000(\d+)\u0000/g, (_, i: string) => {
    const piece = pieces[Number(i)];
    return 'paragraph' in piece
      ? help.boxWrap(piece.paragraph, width)
      : help.formatItem(piece.term, piece.termWidth, piece.description, help);
  });
}

/**
 * The help `argv` asks for when it is exactly a command path followed by `--help` or `-h` and
 * `lookup` has that path's template (canonical names only); undefined otherwise (the program
 * answers).
 */
export function fastHelp(
  argv: readonly string[],
  out: TerminalOutput,
  lookup: (path: readonly string[]) => HelpTemplate | undefined,
): string | undefined {
  const last = argv[argv.length - 1];
  if (last !== '--help' && last !== '-h') return undefined;
  const path = argv.slice(0, -1);
  // Names only: a path is also a file name (helpFileName).
  if (path.some((word) => !/^[a-z][a-z-]*$/.test(word))) return undefined;
  const template = lookup(path);
  return template && renderTemplate(template, out.isTTY === true ? terminalColumns(out) : PIPE_HELP_WIDTH);
}
