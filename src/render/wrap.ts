/**
 * Word wrapping for terminal output: lines break between words, never inside one. A single
 * word wider than the line (a resource ID on a 40-column terminal) breaks after a `/` or a
 * `,` where it has one, and only then at the width.
 */

/** Where a word too long for its line may break: after these characters. */
const SOFT_BREAKS = new Set(['/', ',', '-']);

/**
 * Cuts one word into pieces of at most `width`, after a `/`, `,` or `-`: the first such place
 * after which the rest fits on one line (so `/local/node/<uuid>` and `access-request-<uuid>`
 * keep the UUID whole), else the last one, else at the width.
 */
export function breakWord(word: string, width: number): string[] {
  const out: string[] = [];
  let rest = word;
  while (rest.length > width) {
    const soft: number[] = [];
    for (let i = 1; i <= width; i++) if (SOFT_BREAKS.has(rest[i - 1])) soft.push(i);
    const at = soft.find((i) => rest.length - i <= width) ?? soft.at(-1) ?? width;
    out.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  out.push(rest);
  return out;
}

/**
 * `text` in lines of at most `width` characters, broken between words (runs of spaces).
 * Empty text is one empty line.
 */
export function wrapWords(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const words = text.split(/ +/).filter((x) => x !== '');
  if (words.length === 0) return [''];
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const pieces = word.length > w ? breakWord(word, w) : [word];
    for (const piece of pieces) {
      if (line === '') line = piece;
      else if (line.length + 1 + piece.length <= w) line += ` ${piece}`;
      else {
        lines.push(line);
        line = piece;
      }
    }
  }
  lines.push(line);
  return lines;
}

/** The longest word of `text`: the narrowest it can wrap without breaking a word. */
export function longestWord(text: string): number {
  return Math.max(0, ...text.split(/ +/).map((w) => w.length));
}

/**
 * A shell command in lines of at most `width`, broken between arguments with a trailing
 * ` \\` so the lines still paste as one command. An argument too long for a line of its own
 * breaks after a `/` with a bare `\\`, which the shell joins back without a space.
 */
export function wrapCommand(command: string, width: number, indent = '  '): string[] {
  if (command.length <= width) return [command];
  const lines: string[] = [];
  let line = '';
  const flush = (end: string) => {
    lines.push(`${line}${end}`);
    line = indent;
  };
  for (const word of command.split(' ')) {
    const sep = line === '' || line === indent ? '' : ' ';
    if (line.length + sep.length + word.length + 2 <= width) {
      line += sep + word;
      continue;
    }
    if (line !== '' && line !== indent) flush(' \\');
    if (line.length + word.length + 2 <= width) {
      line += word;
      continue;
    }
    const pieces = breakWord(word, width - line.length - 1);
    for (const [n, piece] of pieces.entries()) {
      line += piece;
      if (n < pieces.length - 1) {
        lines.push(`${line}\\`);
        line = '';
      }
    }
  }
  lines.push(line);
  return lines;
}

/** An indented `term  description` line of a help page: two or more spaces between them. */
const TERM_LINE = /^( +)(\S(?:.*?\S)?)( {2,})(\S.*)$/;

/**
 * A fixed-layout help page (`access help <topic>`) refitted to `width` when it has a line
 * wider: paragraphs rewrap between words; indented `term  description` entries keep their
 * description column while 20 characters fit beside it, else the description goes under the
 * term; any other indented line (a command) wraps with ` \` continuations. A page that fits
 * is returned as written.
 */
export function refitPage(text: string, width: number): string {
  const lines = text.split('\n');
  if (lines.every((l) => l.length <= width)) return text;
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) out.push(...wrapWords(paragraph.join(' '), width));
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') {
      flush();
      out.push('');
      continue;
    }
    if (!line.startsWith(' ')) {
      paragraph.push(line);
      continue;
    }
    flush();
    const entry = TERM_LINE.exec(line);
    if (!entry) {
      const indent = line.length - line.trimStart().length;
      const pieces = wrapCommand(line.trim(), width - indent);
      // A line ending in a bare `\` continues a word: the next starts at the margin.
      out.push(...pieces.map((l, n) => (n > 0 && /\S\\$/.test(pieces[n - 1]) ? l : ' '.repeat(indent) + l)));
      continue;
    }
    const [, indent, term, gap, first] = entry;
    const column = indent.length + term.length + gap.length;
    let description = first;
    // Continuation lines sit under the description column.
    while (
      i + 1 < lines.length &&
      /^ +\S/.test(lines[i + 1]) &&
      lines[i + 1].length - lines[i + 1].trimStart().length >= column
    ) {
      description += ` ${lines[++i].trim()}`;
    }
    if (column + 20 <= width) {
      out.push(
        ...wrapWords(description, width - column).map(
          (l, n) => (n === 0 ? indent + term + gap : ' '.repeat(column)) + l,
        ),
      );
    } else {
      out.push(...wrapWords(term, width - indent.length).map((l) => indent + l));
      const under = indent.length + 4;
      out.push(...wrapWords(description, width - under).map((l) => ' '.repeat(under) + l));
    }
  }
  flush();
  return out.join('\n');
}
