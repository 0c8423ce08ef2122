// Writes completions/ and man/ from the command tree (dist/ must be built).
// Usage: node scripts/gen-docs.mjs [--out DIR]   (default: the repository root)
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliContext } from '../dist/cli/context.js';
import { bashCompletion } from '../dist/cli/docs/bash.js';
import { fishCompletion } from '../dist/cli/docs/fish.js';
import { manPages } from '../dist/cli/docs/man.js';
import { describe } from '../dist/cli/docs/tree.js';
import { zshCompletion } from '../dist/cli/docs/zsh.js';
import { helpTopics } from '../dist/cli/help-topics.js';
import { buildProgram, loadCommands } from '../dist/cli/program.js';

const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? process.argv[outIndex + 1] : '.';
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// The tree is only described, never run: an inert IO with a fixed width keeps the output reproducible.
const sink = { write: () => true };
const io = {
  stdout: sink,
  stderr: sink,
  stdoutIsTTY: false,
  stderrIsTTY: false,
  columns: 100,
  color: false,
  env: {},
  now: () => new Date(0),
};
const tree = describe(buildProgram(new CliContext(io), {}, await loadCommands()));

const completions = join(out, 'completions');
const man = join(out, 'man');
rmSync(completions, { recursive: true, force: true });
rmSync(man, { recursive: true, force: true });
mkdirSync(completions, { recursive: true });
mkdirSync(man, { recursive: true });
writeFileSync(join(completions, 'access.bash'), bashCompletion(tree));
writeFileSync(join(completions, '_access'), zshCompletion(tree));
writeFileSync(join(completions, 'access.fish'), fishCompletion(tree));
for (const [name, text] of manPages(tree, helpTopics(), version)) writeFileSync(join(man, name), text);
console.log(`wrote completions/ and man/ (${tree.subcommands.length} top-level commands)`);
