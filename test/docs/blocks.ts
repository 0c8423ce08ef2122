/**
 * Code blocks of a Markdown document, with the heading they stand under, and the pieces of a
 * shell block the doc tests need: its commands and the output shown under them.
 */

export interface CodeBlock {
  /** The nearest heading above the block, without its `#`s. */
  section: string;
  /** The info string after the opening fence (`sh`, `yaml`, `python`). */
  lang: string;
  /** The block's text, its fence's indentation removed; ends with a newline. */
  text: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
}

/** Every fenced code block of `markdown`, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const out: CodeBlock[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{1,6} (.*)$/.exec(lines[i]);
    if (heading) {
      section = heading[1].trim();
      continue;
    }
    const fence = /^( *)```(\S*)\s*$/.exec(lines[i]);
    if (!fence) continue;
    const indent = fence[1].length;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^ *```\s*$/.test(lines[j])) body.push(lines[j++].slice(indent));
    if (j === lines.length) throw new Error(`README line ${i + 1}: the code block is never closed`);
    out.push({ section, lang: fence[2], text: `${body.join('\n')}\n`, line: i + 1 });
    i = j;
  }
  return out;
}

export function isShell(block: CodeBlock): boolean {
  return ['sh', 'bash', 'shell', 'console'].includes(block.lang);
}

/** A command line of a shell block and the output the document shows under it, if any. */
export interface ShownCommand {
  /** 0-based line of the command in the block. */
  line: number;
  command: string;
  /** The output lines, their `# ` taken off; empty when none is shown. */
  output: string[];
}

/**
 * The commands of a block that show their output. The convention the README follows: what a
 * command prints is shown as comment lines right under it (`# listening on ...`); a comment
 * after a blank line, or before the first command, is prose. A command whose output is shown
 * must fit on one line.
 */
export function shownOutputs(text: string): ShownCommand[] {
  const lines = text.replace(/\n$/, '').split('\n');
  const out: ShownCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.trim() === '' || l.startsWith('#')) continue;
    const output: string[] = [];
    let j = i + 1;
    while (j < lines.length && /^#( |$)/.test(lines[j])) output.push(lines[j++].replace(/^# ?/, ''));
    if (output.length === 0) continue;
    if (/[\\|]\s*$/.test(l) || (i > 0 && /[\\|]\s*$/.test(lines[i - 1]))) {
      throw new Error(`a command whose output is shown must fit on one line: ${l}`);
    }
    out.push({ line: i, command: l, output });
    i = j - 1;
  }
  return out;
}

/** The `<name>` placeholders left in a block's commands (comments aside). */
export function placeholdersIn(text: string): string[] {
  const found = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.trimStart().startsWith('#')) continue;
    const code = line.replace(/\s#\s.*$/, '');
    for (const m of code.matchAll(/(?<![\w<])<([a-z][a-z-]*)>(?![\w>])/g)) found.add(m[1]);
  }
  return [...found];
}
