/**
 * `--help` from templates (src/cli/fast-help.ts) prints exactly what the program prints, for
 * every command path, on a pipe and on terminals of any width; anything else is left to the
 * program. The bundle's own templates are checked the same way through the binary.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { commandPaths, helpTemplates } from '../../../src/cli/docs/help-table.js';
import { fastHelp, type HelpTemplate, helpFileName } from '../../../src/cli/fast-help.js';
import { ROOT, runAccess } from '../../helpers/e2e.js';
import { runCli } from '../../helpers/run-cli.js';

/** What `access PATH --help` prints on stdout for this output, run through the program; it must be help alone. */
async function renderHelp(
  path: readonly string[],
  out: { isTTY: boolean; columns: number },
): Promise<string> {
  const run = await runCli([...path, '--help'], out);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return run.stdout;
}

let templates: Map<string, HelpTemplate>;
const lookup = (path: readonly string[]) => templates.get(path.join(' '));

beforeAll(async () => {
  templates = new Map((await helpTemplates()).map(({ path, template }) => [path.join(' '), template]));
});

/** Terminal widths around commander's no-wrap threshold (40), common sizes and very wide. */
const WIDTHS = [20, 39, 40, 41, 57, 80, 99, 100, 101, 132, 200, 1000];

describe('fast help prints what the program prints', () => {
  test('the bundle holds a template file for every command path, and no other', async () => {
    expect((await readdir(join(ROOT, 'dist', 'bundle', 'help'))).sort()).toEqual(
      commandPaths().map(helpFileName).sort(),
    );
  });

  test.each(commandPaths().map((p) => [p.join(' ') || '(root)', p]))(
    '%s, on a pipe and on terminals',
    async (_, path) => {
      for (const argv of [
        [...path, '--help'],
        [...path, '-h'],
      ]) {
        expect(fastHelp(argv, { isTTY: false }, lookup)).toBe(
          await renderHelp(path, { isTTY: false, columns: 80 }),
        );
        for (const columns of WIDTHS) {
          expect(fastHelp(argv, { isTTY: true, columns }, lookup), `${columns} columns`).toBe(
            await renderHelp(path, { isTTY: true, columns }),
          );
        }
      }
    },
  );

  test('a terminal that gives no width is taken as 80 columns, as the program takes it', async () => {
    expect(fastHelp(['request', '--help'], { isTTY: true }, lookup)).toBe(
      await renderHelp(['request'], { isTTY: true, columns: 80 }),
    );
  });
});

describe('what fast help leaves to the program', () => {
  test.each([
    ['no --help', ['request', 'ls']],
    ['--help not last', ['request', '--help', 'ls']],
    ['a global option first', ['--debug', '--help']],
    ['an option of the command first', ['request', 'ls', '--mine', '--help']],
    ['an option value that is --help', ['request', 'create', '--reason', '--help']],
    ['an alias', ['request', 'list', '--help']],
    ['an unknown command', ['request', 'lss', '--help']],
    ['a path with dots', ['..', '--help']],
    ['help as a command', ['help', '--help']],
  ])('%s', (_, argv) => {
    expect(fastHelp(argv, { isTTY: false }, lookup)).toBeUndefined();
  });
});

describe('the bundle answers --help from its own templates', () => {
  test('each template file is the template of its path', async () => {
    for (const path of commandPaths()) {
      const file = JSON.parse(
        await readFile(join(ROOT, 'dist', 'bundle', 'help', helpFileName(path)), 'utf8'),
      );
      expect(file).toEqual(lookup(path));
    }
  });

  test('through the binary: the help of request ls, and of a typo what the program prints', async () => {
    for (const path of [
      ['request', 'ls'],
      ['request', 'lss'],
    ]) {
      const run = await runAccess([...path, '--help'], { PATH: process.env.PATH ?? '' });
      expect(run).toMatchObject({
        code: 0,
        stderr: '',
        stdout: await renderHelp(path, { isTTY: false, columns: 80 }),
      });
    }
  });
});
