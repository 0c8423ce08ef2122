/**
 * The templates fast-help.ts answers `--help` from, made by running the program itself: for
 * each command path of the manifest, the help commander prints with the pieces it wraps
 * (paragraphs, terms with their descriptions) recorded and cut out. scripts/bundle.mjs writes
 * them beside the bundle, a file each.
 */
import { CommanderError, type HelpConfiguration } from '@commander-js/extra-typings';
import { CliContext } from '../context.js';
import { type HelpPiece, type HelpTemplate, pieceMark } from '../fast-help.js';
import { COMMANDS } from '../manifest.js';
import { buildProgram, type LoadedCommands, loadCommands } from '../program.js';
import { captureIO } from './capture-io.js';

/** Every command path the manifest names (canonical names), the root first. */
export function commandPaths(): string[][] {
  return [
    [],
    ...COMMANDS.flatMap((e) =>
      e.kind === 'leaf' ? [[e.name]] : [[e.name], ...e.commands.map((c) => [e.name, c.name])],
    ),
  ];
}

/** The help of `path` with what commander wraps recorded instead of wrapped. */
async function templateFor(path: readonly string[], loaded: LoadedCommands): Promise<HelpTemplate> {
  const pieces: HelpPiece[] = [];
  const record = (piece: HelpPiece) => pieceMark(pieces.push(piece) - 1);
  const recorder: HelpConfiguration = {
    boxWrap: (paragraph) => record({ paragraph }),
    formatItem: (term, termWidth, description) => record({ term, termWidth, description }),
  };
  const io = captureIO({ isTTY: false, columns: 80 });
  try {
    await buildProgram(new CliContext(io), {}, loaded, recorder).parseAsync([...path, '--help'], {
      from: 'user',
    });
  } catch (err) {
    if (!(err instanceof CommanderError && err.code === 'commander.helpDisplayed')) throw err;
  }
  return { template: io.stdoutText(), pieces };
}

/** The template of every command path. */
export async function helpTemplates(): Promise<{ path: string[]; template: HelpTemplate }[]> {
  const loaded = await loadCommands();
  const templates = [];
  for (const path of commandPaths()) templates.push({ path, template: await templateFor(path, loaded) });
  return templates;
}
