/**
 * Help fits the terminal and says whole sentences (issue 23): every help screen, from the
 * templates `--help` answers from (fast-help.ts) and from commander through the program, at 40,
 * 80 and 120 columns has no line over the width; every summary a parent lists and every
 * paragraph of a description ends a sentence, and no option's description breaks a line inside.
 */
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { beforeAll, describe, expect, test } from 'vitest';
import { commandPaths, helpTemplates } from '../../../src/cli/docs/help-table.js';
import { fastHelp, type HelpTemplate } from '../../../src/cli/fast-help.js';
import { helpTopics } from '../../../src/cli/help-topics.js';
import { COMMANDS, leaves } from '../../../src/cli/manifest.js';
import { type LoadedCommands, loadCommands } from '../../../src/cli/program.js';
import { runCli } from '../../helpers/run-cli.js';

const WIDTHS = [40, 80, 120];
/** A sentence ends with a full stop, a question mark or an exclamation mark (a closing quote or bracket may follow). */
const SENTENCE_END = /[.!?]["')`]*$/;

let templates: Map<string, HelpTemplate>;
let modules: LoadedCommands;

beforeAll(async () => {
  templates = new Map((await helpTemplates()).map(({ path, template }) => [path.join(' '), template]));
  modules = await loadCommands();
});

function overWidth(text: string, width: number): string[] {
  return text.split('\n').filter((l) => l.length > width);
}

describe('every help screen fits', () => {
  test.each(commandPaths().map((p) => [p.join(' ') || '(root)', p]))('%s', async (_, path) => {
    for (const columns of WIDTHS) {
      const program = await runCli([...path, '--help'], { isTTY: true, columns });
      expect(program.code).toBe(0);
      expect(overWidth(program.stdout, columns), `program at ${columns}:\n${program.stdout}`).toEqual([]);
      const fast = fastHelp([...path, '--help'], { isTTY: true, columns }, (p) => templates.get(p.join(' ')));
      expect(fast, `no template for ${path.join(' ')}`).toBeDefined();
      expect(overWidth(fast!, columns), `template at ${columns}:\n${fast}`).toEqual([]);
    }
  });
});

describe.each(helpTopics().map((t) => t.name))('the help topic %s', (topic) => {
  test.each(WIDTHS)('fits %i columns, every word of it kept', async (columns) => {
    const r = await runCli(['help', topic], { isTTY: true, columns });
    expect(r.code).toBe(0);
    expect(overWidth(r.stdout, columns), r.stdout).toEqual([]);
    // Refitting moves words, never drops or cuts one (a ` \\` continuation aside).
    const words = (t: string) => t.split(/\s+/).filter((w) => w !== '' && w !== '\\');
    const piped = await runCli(['help', topic]);
    expect(words(r.stdout.replace(/\\\n/g, ''))).toEqual(words(piped.stdout));
  });
});

describe('help says whole sentences', () => {
  test('every summary a parent lists ends a sentence', () => {
    const summaries = [
      ...COMMANDS.filter((c) => c.kind === 'group').map((g) => [g.name, g.description] as const),
      ...leaves().map((l) => [l.path.join(' '), l.entry.summary] as const),
    ];
    for (const [name, summary] of summaries) expect(summary, name).toMatch(SENTENCE_END);
  });

  test.each(leaves().map((l) => [l.path.join(' '), l.entry] as const))('%s', (_, entry) => {
    const cmd: CommandUnknownOpts = modules.get(entry)!.define();
    // A description's lines are its paragraphs: each ends a sentence (help wraps within them).
    for (const paragraph of cmd.description().split('\n')) {
      if (paragraph.trim() === '' || /^\s/.test(paragraph)) continue;
      expect(paragraph, `${entry.name}: a description line`).toMatch(new RegExp(`${SENTENCE_END.source}|:$`));
    }
    for (const option of cmd.options) {
      expect(option.description, `${entry.name} ${option.flags}`).not.toContain('\n');
    }
  });
});
