import { readFileSync } from 'node:fs';
import { Command, type CommandUnknownOpts, type HelpConfiguration } from '@commander-js/extra-typings';
import { UsageError } from '../model/errors.js';
import { refitPage } from '../render/wrap.js';
import type { Context } from './context.js';
import { HELP_LAYOUT, PIPE_HELP_WIDTH } from './fast-help.js';
import { helpTopics } from './help-topics.js';
import { COMMANDS, type LeafEntry, type LoadedCommand, leafNamedBy, leaves } from './manifest.js';
import { addGlobalOptions, addPlaceholderOptions } from './options.js';

export interface ProgramHooks {
  /** Receives the exit code a command returned. */
  onExit?(code: number): void;
}

let cachedVersion: string | undefined;

/** The package version; package.json sits two levels above both src/cli and dist/cli. */
export function packageVersion(): string {
  if (cachedVersion === undefined) {
    const url = new URL('../../package.json', import.meta.url);
    cachedVersion = (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  }
  return cachedVersion;
}

/** Marks commander's usage errors with the command they concern, for main's hint. */
function reportUsageAgainst(cmd: CommandUnknownOpts): void {
  cmd.exitOverride((err) => {
    throw Object.assign(err, { commandPath: commandPath(cmd) });
  });
}

/** `access request create` for the create command. */
export function commandPath(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The command modules loaded so far, by manifest entry. */
export type LoadedCommands = ReadonlyMap<LeafEntry, LoadedCommand>;

/**
 * Thrown when commander is about to enter (run, or show the help of) a command whose module
 * is not loaded: runProgram loads it and parses again. Nothing has run at that point.
 */
class CommandNotLoaded extends Error {
  constructor(readonly entry: LeafEntry) {
    super(`command ${entry.name} is not loaded`);
  }
}

/** Commands standing in for modules not loaded: enough for the parent's help, nothing more. */
const placeholders = new WeakMap<CommandUnknownOpts, LeafEntry>();

function attach(
  parent: CommandUnknownOpts,
  entry: LeafEntry,
  loaded: LoadedCommands,
  ctx: Context,
  hooks: ProgramHooks,
): void {
  const mod = loaded.get(entry);
  let cmd: CommandUnknownOpts;
  if (mod) {
    cmd = mod.define();
    cmd.action(async () => {
      const code = await mod.run(ctx, mod.parse(cmd.processedArgs, cmd.opts()));
      hooks.onExit?.(code ?? 0);
    });
  } else {
    cmd = new Command(entry.name);
    for (const alias of entry.aliases) cmd.alias(alias);
    for (const arg of entry.args) cmd.argument(arg);
    placeholders.set(cmd, entry);
    // `access request help ls` shows ls's help without entering it.
    cmd.on('beforeHelp', () => {
      throw new CommandNotLoaded(entry);
    });
  }
  cmd.summary(entry.summary);
  cmd.copyInheritedSettings(parent);
  if (mod) addGlobalOptions(cmd, 'subcommand');
  else addPlaceholderOptions(cmd);
  parent.addCommand(cmd);
  reportUsageAgainst(cmd);
}

/** Stops before commander enters a placeholder (see CommandNotLoaded). */
function loadBeforeEntering(parent: CommandUnknownOpts): void {
  parent.hook('preSubcommand', (_parent, sub) => {
    const entry = placeholders.get(sub);
    if (entry) throw new CommandNotLoaded(entry);
  });
}

function group(parent: CommandUnknownOpts, name: string, description: string): CommandUnknownOpts {
  const cmd = new Command(name).description(description);
  cmd.copyInheritedSettings(parent);
  addGlobalOptions(cmd, 'subcommand');
  parent.addCommand(cmd);
  reportUsageAgainst(cmd);
  loadBeforeEntering(cmd);
  return cmd;
}

/**
 * Builds a fresh commander tree around `ctx`: the commands in `loaded` complete, every other
 * one a placeholder from the manifest (enough for its parent's help). Building runs nothing,
 * so docs, man pages and completions are generated from the same tree (habit 9), built with
 * every module loaded (loadCommands). `help` adds to the help configuration of every command
 * (the fast-help table records the pieces help wraps through it).
 */
export function buildProgram(
  ctx: Context & { configure?(leaf: CommandUnknownOpts): void },
  hooks: ProgramHooks = {},
  loaded: LoadedCommands = new Map(),
  help: HelpConfiguration = {},
): CommandUnknownOpts {
  const io = ctx.io;
  const program = new Command('access')
    .description('Teleport Access Request workflows: request, review, approve, wait and assume access.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand(false)
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false, ...HELP_LAYOUT, ...help })
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // main prints usage errors itself, as one `error:` line and a `hint:` line.
      outputError: () => {},
      getOutHelpWidth: () => (io.stdoutIsTTY ? io.columns : PIPE_HELP_WIDTH),
      getErrHelpWidth: () => (io.stderrIsTTY ? io.columns : PIPE_HELP_WIDTH),
    });
  addGlobalOptions(program, 'root');
  reportUsageAgainst(program);
  // One topic a line, so the list fits any terminal help is read on.
  program.addHelpText(
    'after',
    `\nHelp topics (access help <topic>):\n${helpTopics()
      .map((t) => `  ${t.name}`)
      .join('\n')}`,
  );
  program.hook('preAction', (_root, leaf) => {
    ctx.configure?.(leaf);
  });

  loadBeforeEntering(program);
  for (const entry of COMMANDS) {
    if (entry.kind === 'leaf') {
      attach(program, entry, loaded, ctx, hooks);
      continue;
    }
    const cmd = group(program, entry.name, entry.description);
    for (const alias of entry.aliases) cmd.alias(alias);
    for (const leaf of entry.commands) attach(cmd, leaf, loaded, ctx, hooks);
  }
  addHelpCommand(program, hooks, () => (io.stdoutIsTTY ? io.columns : undefined));
  return program;
}

/** Every command module, loaded: the whole tree, for docs, completions and tests. */
export async function loadCommands(): Promise<LoadedCommands> {
  const all = leaves().map(({ entry }) => entry);
  const modules = await Promise.all(all.map((entry) => entry.load()));
  return new Map(all.map((entry, i) => [entry, modules[i]]));
}

/**
 * Parses argv and runs the command it names, loading only that command's module: the tree
 * is built from the manifest with the module argv's leading words name (leafNamedBy), and
 * when commander is about to enter another command not loaded, that module is loaded and
 * argv parsed again on a fresh tree.
 */
export async function runProgram(
  ctx: Context & { configure?(leaf: CommandUnknownOpts): void },
  argv: string[],
  hooks: ProgramHooks = {},
): Promise<void> {
  const loaded = new Map<LeafEntry, LoadedCommand>();
  // The command argv names, loaded first, spares building and parsing the tree twice.
  const named = leafNamedBy(argv);
  if (named) loaded.set(named, await named.load());
  for (;;) {
    try {
      await buildProgram(ctx, hooks, loaded).parseAsync(argv, { from: 'user' });
      return;
    } catch (err) {
      if (!(err instanceof CommandNotLoaded)) throw err;
      loaded.set(err.entry, await err.entry.load());
    }
  }
}

/**
 * `access help [topic|command...]`: the root help, a topic page (environment, exit-codes,
 * formats, resource-ids), or a command's help, on stdout with exit 0.
 */
/**
 * `terminalWidth` is the width a topic page is refitted to on a terminal (undefined off one:
 * piped pages keep their layout).
 */
function addHelpCommand(
  program: CommandUnknownOpts,
  hooks: ProgramHooks,
  terminalWidth: () => number | undefined,
): void {
  const io = () => program.configureOutput();
  const cmd = new Command('help')
    .description('Show help for a command or a topic (environment, exit-codes, formats, resource-ids).')
    .argument('[topic...]', 'a help topic or a command path, e.g. `request create`');
  cmd.copyInheritedSettings(program);
  addGlobalOptions(cmd, 'subcommand');
  cmd.action((words: string[]) => {
    const out = io().writeOut ?? (() => {});
    if (words.length === 0) {
      out(program.helpInformation());
    } else {
      const topic = helpTopics().find((t) => t.name === words[0]);
      if (topic && words.length === 1) {
        const width = terminalWidth();
        out(`${topic.title}\n\n${width === undefined ? topic.text : refitPage(topic.text, width)}\n`);
      } else {
        let target: CommandUnknownOpts | undefined = program;
        for (const w of words) {
          target = target?.commands.find((c) => c.name() === w || c.aliases().includes(w));
        }
        const entry = target && placeholders.get(target);
        if (entry) throw new CommandNotLoaded(entry);
        if (!target) {
          const names = helpTopics()
            .map((t) => t.name)
            .join(', ');
          throw new UsageError(
            `no help topic or command ${JSON.stringify(words.join(' '))}`,
            `topics: ${names}; commands: ${program.commands.map((c) => c.name()).join(', ')}`,
          );
        }
        out(target.helpInformation());
      }
    }
    hooks.onExit?.(0);
  });
  program.addCommand(cmd);
  reportUsageAgainst(cmd);
}
