/**
 * The templates fast-help.ts answers `--help` from, made by running the program itself: for
 * each command path of the manifest, the help commander prints with the pieces it wraps
 * (paragraphs, terms with their descriptions) recorded and cut out. scripts/bundle.mjs writes
 * them beside the bundle, a file each.
 */
import { CommanderError, type HelpConfiguration } from '@commander-js/extra-typings';
import type { IO } from '../../render/io.js';
import { CliContext } from '../context.js';
import { type HelpPiece, type HelpTemplate, pieceMark } from '../fast-help.js';
import { main } from '../main.js';
import { COMMANDS } from '../manifest.js';
import { buildProgram, type LoadedCommands, loadCommands } from '../program.js';

/** Every command path the manifest names (canonical names), the root first. */
export function commandPaths(): string[][] {
  return [
    [],
    ...COMMANDS.flatMap((e) =>
      e.kind === 'leaf' ? [[e.name]] : [[e.name], ...e.commands.map((c) => [e.name, c.name])],
    ),
  ];
}

/** An IO that keeps what is written, for `width` columns (a terminal, or a pipe). */
function captureIO(out: {
  isTTY: boolean;
  columns: number;
}): IO & { stdoutText(): string; stderrText(): string } {
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
    env: {},
    now: () => new Date(0),
    stdoutText: () => stdout,
    stderrText: () => stderr,
  };
}

/** What `access PATH --help` prints on stdout for this output; throws unless it is help alone. */
export async function renderHelp(
  path: readonly string[],
  out: { isTTY: boolean; columns: number },
): Promise<string> {
  const io = captureIO(out);
  const code = await main([...path, '--help'], io);
  if (code !== 0 || io.stderrText() !== '') {
    throw new Error(`access ${[...path, '--help'].join(' ')} exited ${code}: ${io.stderrText().trim()}`);
  }
  return io.stdoutText();
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
