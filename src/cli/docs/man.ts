/** Man pages (section 1), one per command, from the command tree and the help topics. */
import type { HelpTopic } from '../help-topics.js';
import { type CommandDoc, GENERATED, type OptionDoc, walk } from './tree.js';

/** Escapes text for a roff line: backslashes, hyphens, non-ASCII, and a leading dot or quote. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/[^\x00-\x7f]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`)
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

function manName(d: CommandDoc): string {
  return ['access', ...d.path].join('-');
}

function optionsSection(title: string, options: OptionDoc[]): string[] {
  if (options.length === 0) return [];
  const out = [`.SH ${title}`];
  for (const o of options) {
    out.push('.TP', `.B ${roff(o.flags)}`, roff(o.description || ' '));
    if (o.choices.length > 0) out.push(`One of: ${roff(o.choices.join(', '))}.`);
  }
  return out;
}

function paragraphs(text: string): string[] {
  const out: string[] = [];
  for (const block of text.trim().split(/\n\s*\n/)) {
    out.push('.PP');
    if (/^( {2}|\t)/m.test(block)) out.push('.nf', roff(block), '.fi');
    else out.push(roff(block.replace(/\s*\n\s*/g, ' ')));
  }
  return out;
}

/** One page per command (section 1), keyed by file name. `date` keeps output reproducible. */
export function manPages(root: CommandDoc, topics: HelpTopic[], version: string): Map<string, string> {
  const pages = new Map<string, string>();
  for (const d of walk(root)) {
    const name = manName(d);
    const lines = [
      `.\\" ${GENERATED}`,
      `.TH ${name.toUpperCase()} 1 "" "access ${version}" "access manual"`,
      '.SH NAME',
      `${roff(name)} \\- ${roff(d.summary || 'Teleport Access Request workflows')}`,
      '.SH SYNOPSIS',
      `.B ${roff(['access', ...d.path].join(' '))}`,
      roff(d.usage),
    ];
    if (d.description) lines.push('.SH DESCRIPTION', ...paragraphs(d.description));
    if (d.args.length > 0) {
      lines.push('.SH ARGUMENTS');
      for (const a of d.args)
        lines.push('.TP', `.I ${roff(a.name)}${a.variadic ? '...' : ''}`, roff(a.description || ' '));
    }
    lines.push(...optionsSection('OPTIONS', d.options));
    if (d.path.length > 0) lines.push(...optionsSection('GLOBAL OPTIONS', root.options));
    if (d.subcommands.length > 0) {
      lines.push('.SH COMMANDS');
      for (const s of d.subcommands)
        lines.push('.TP', `.B ${roff(s.path.join(' '))}`, `${roff(s.summary)} See \\fB${manName(s)}\\fR(1).`);
    }
    if (d.path.length === 0) {
      for (const t of topics) lines.push(`.SH ${roff(t.title.toUpperCase())}`, ...paragraphs(t.text));
    }
    const seeAlso =
      d.path.length === 0 ? d.subcommands.map(manName) : [manName({ ...d, path: d.path.slice(0, -1) })];
    lines.push('.SH SEE ALSO', seeAlso.map((n) => `\\fB${roff(n)}\\fR(1)`).join(', '));
    pages.set(`${name}.1`, `${lines.join('\n')}\n`);
  }
  return pages;
}
