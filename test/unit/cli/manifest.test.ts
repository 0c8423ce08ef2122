/**
 * The manifest (src/cli/manifest.ts) stands in for the command modules in the root and
 * group help: it must say what the modules say, and the help built from it must be the help
 * built from the modules, byte for byte, and the help this CLI printed before the tree
 * became lazy (help-output/*.txt).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { beforeAll, describe, expect, test } from 'vitest';
import { CliContext } from '../../../src/cli/context.js';
import { COMMANDS, leafNamedBy, leaves } from '../../../src/cli/manifest.js';
import { buildProgram, type LoadedCommands, loadCommands } from '../../../src/cli/program.js';
import { fakeIO, runCli } from '../../helpers/run-cli.js';

let modules: LoadedCommands;

beforeAll(async () => {
  modules = await loadCommands();
});

function find(root: CommandUnknownOpts, path: string[]): CommandUnknownOpts {
  let cmd = root;
  for (const name of path) {
    const next = cmd.commands.find((c) => c.name() === name);
    if (!next) throw new Error(`no command ${path.join(' ')}`);
    cmd = next;
  }
  return cmd;
}

const usage = (cmd: CommandUnknownOpts) =>
  cmd.registeredArguments.map((a) => {
    const name = `${a.name()}${a.variadic ? '...' : ''}`;
    return a.required ? `<${name}>` : `[${name}]`;
  });

describe('manifest', () => {
  test('every command module is in the manifest, once', async () => {
    const dir = join(import.meta.dirname, '../../../src/cli/commands');
    const commandFiles: unknown[] = [];
    for (const file of readdirSync(dir)) {
      const mod = (await import(join(dir, file))) as Record<string, unknown>;
      if ('define' in mod && 'parse' in mod && 'run' in mod) commandFiles.push(mod);
    }
    const listed = [...modules.values()];
    expect(new Set(listed).size).toBe(listed.length);
    expect(new Set(listed)).toEqual(new Set(commandFiles));
  });

  test.each(leaves().map((l) => [l.path.join(' '), l.entry] as const))(
    '%s: name, aliases and arguments are the module’s',
    (_path, entry) => {
      const cmd = modules.get(entry)!.define();
      expect(cmd.name()).toBe(entry.name);
      expect(cmd.aliases()).toEqual(entry.aliases);
      expect(usage(cmd)).toEqual(entry.args);
    },
  );

  test('the help of the root and of each group is the same from the manifest as from the modules', () => {
    const io = fakeIO();
    const lazy = buildProgram(new CliContext(io));
    const full = buildProgram(new CliContext(io), {}, modules);
    expect(lazy.helpInformation()).toBe(full.helpInformation());
    for (const group of COMMANDS.filter((c) => c.kind === 'group')) {
      expect(find(lazy, [group.name]).helpInformation()).toBe(find(full, [group.name]).helpInformation());
    }
  });
});

describe('help output is unchanged', () => {
  const dir = join(import.meta.dirname, 'help-output');
  test.each([
    ['root', ['--help']],
    ['request', ['request', '--help']],
    ['rule', ['rule', '--help']],
    ['lock', ['lock', '--help']],
    ['server', ['server', '--help']],
    ['webhook', ['webhook', '--help']],
  ])('%s', async (name, argv) => {
    const r = await runCli(argv);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(dir, `${name}.txt`), 'utf8'));
  });

  test('a command’s own help, asked three ways, loads and shows that command', async () => {
    const ways = [
      ['request', 'ls', '--help'],
      ['help', 'request', 'ls'],
      ['request', 'help', 'ls'],
    ];
    const outs = await Promise.all(ways.map((argv) => runCli(argv)));
    for (const r of outs) {
      expect(r.stdout).toContain('Usage: access request ls|list [options]');
      expect(r.stdout).toContain('--reviewable');
    }
  });
});

describe('leafNamedBy: the command argv names, loaded before the first parse', () => {
  const named = (argv: string[]) => {
    const entry = leafNamedBy(argv);
    return (
      entry &&
      leaves()
        .find((l) => l.entry === entry)
        ?.path.join(' ')
    );
  };

  test.each([
    [['request', 'ls', '--format', 'json'], 'request ls'],
    [['requests', 'list'], 'request ls'],
    [['--debug', 'request', 'show', 'ID'], 'request show'],
    [['exec', '--roles', 'dba', '--', 'sh'], 'exec'],
    [['rule', 'test', 'x.yaml'], 'rule test'],
  ])('%j names %s', (argv, path) => {
    expect(named(argv)).toBe(path);
  });

  test.each([
    [[]],
    [['request']],
    [['request', 'lss']],
    [['--format', 'json', 'request', 'ls']],
    [['help', 'request']],
  ])('%j names no command (the program finds it)', (argv) => {
    expect(leafNamedBy(argv)).toBeUndefined();
  });
});
