/** The fish completion script, from the command tree. */
import {
  type CommandDoc,
  flagNames,
  GENERATED,
  idList,
  idScope,
  type OptionDoc,
  takesRequestIds,
  walk,
} from './tree.js';

function fishQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function fishCompletion(root: CommandDoc): string {
  const all = walk(root);
  const lines: string[] = [
    `# fish completion for access (${GENERATED})`,
    '# Install: copy to ~/.config/fish/completions/access.fish',
    '',
  ];
  lines.push(
    'function __access_path',
    '    set -l tokens (commandline -opc)',
    '    set -e tokens[1]',
    '    set -l cmdpath',
    '    set -l skip 0',
  );
  const valueFlags = new Set(all.flatMap((d) => d.options.filter((o) => o.takesValue).flatMap(flagNames)));
  lines.push(
    '    for t in $tokens',
    '        if test $skip -eq 1',
    '            set skip 0',
    '            continue',
    '        end',
  );
  lines.push(
    `        if contains -- $t ${[...valueFlags].join(' ')}`,
    '            set skip 1',
    '            continue',
    '        end',
  );
  lines.push(
    '        if string match -q -- "-*" $t',
    '            continue',
    '        end',
    '        set -l candidate (string join " " $cmdpath $t)',
  );
  lines.push(
    `        if contains -- $candidate ${all
      .filter((d) => d.path.length > 0)
      .map((d) => fishQuote(d.path.join(' ')))
      .join(' ')}`,
  );
  lines.push(
    '            set cmdpath $cmdpath $t',
    '        end',
    '    end',
    '    string join " " $cmdpath',
    'end',
    '',
  );
  lines.push(
    'function __access_at',
    '    set -l current (__access_path)',
    '    test "$current" = "$argv[1]"',
    'end',
    '',
  );
  lines.push('function __access_request_ids', `    ${idList('$argv')}`, 'end', '');
  lines.push('complete -c access -f');
  const short = (o: OptionDoc) => (o.short ? ` -s ${o.short.replace(/^-/, '')}` : '');
  const long = (o: OptionDoc) => (o.long ? ` -l ${o.long.replace(/^--/, '')}` : '');
  for (const o of root.options) {
    const value = o.takesValue
      ? o.choices.length > 0
        ? ` -x -a ${fishQuote(o.choices.join(' '))}`
        : ' -r -F'
      : '';
    lines.push(`complete -c access${short(o)}${long(o)}${value} -d ${fishQuote(o.description)}`);
  }
  for (const d of all) {
    const cond = fishQuote(`__access_at ${fishQuote(d.path.join(' '))}`);
    for (const s of d.subcommands) {
      lines.push(`complete -c access -n ${cond} -a ${s.path.at(-1)} -d ${fishQuote(s.summary)}`);
    }
    if (d.path.length === 0) continue;
    for (const o of d.options) {
      const value = o.takesValue
        ? o.choices.length > 0
          ? ` -x -a ${fishQuote(o.choices.join(' '))}`
          : ' -r -F'
        : '';
      lines.push(`complete -c access -n ${cond}${short(o)}${long(o)}${value} -d ${fishQuote(o.description)}`);
    }
    const scope = idScope(d);
    if (takesRequestIds(d)) {
      lines.push(`complete -c access -n ${cond} -a '(__access_request_ids${scope ? ` ${scope}` : ''})'`);
    }
  }
  lines.push('');
  return lines.join('\n');
}
