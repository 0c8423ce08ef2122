/** The zsh completion script, from the command tree. */
import { type CommandDoc, flagNames, GENERATED, idList, idScope, takesRequestIds, walk } from './tree.js';

function zshQuote(s: string): string {
  return s.replace(/'/g, "'\\''");
}

export function zshCompletion(root: CommandDoc): string {
  const all = walk(root);
  const key = (d: CommandDoc) => d.path.join(' ');
  const lines: string[] = [];
  lines.push(
    '#compdef access',
    `# zsh completion for access (${GENERATED})`,
    '# Install: put this file on $fpath as _access, or source it after compinit.',
    '',
  );
  lines.push(
    '_access_request_ids() {',
    '  local -a ids',
    `  ids=(\${(f)"$(${idList('"$@"')})"})`,
    '  compadd -a ids',
    '}',
    '',
  );
  lines.push(
    '_access() {',
    '  local cmdpath="" w i skip=0',
    '  local -a subs opts',
    '  for ((i = 2; i < CURRENT; i++)); do',
    '    w="${words[i]}"',
  );
  lines.push('    if ((skip)); then skip=0; continue; fi', '    case "$w" in', '      -*=*) continue ;;');
  const valueFlags = new Set(all.flatMap((d) => d.options.filter((o) => o.takesValue).flatMap(flagNames)));
  lines.push(
    `      ${[...valueFlags].join('|') || '--'}) skip=1; continue ;;`,
    '      -*) continue ;;',
    '    esac',
  );
  lines.push('    case "$cmdpath|$w" in');
  for (const d of all) {
    for (const s of d.subcommands) lines.push(`      "${key(d)}|${s.path.at(-1)}") cmdpath="${key(s)}" ;;`);
  }
  lines.push('    esac', '  done', '  case "$cmdpath|${words[CURRENT-1]}" in');
  for (const d of all) {
    for (const o of d.options.filter((x) => x.takesValue)) {
      const pattern = flagNames(o)
        .map((f) => (d.path.length === 0 ? `*"|${f}"` : `"${key(d)}|${f}"`))
        .join('|');
      const action = o.choices.length > 0 ? `compadd -- ${o.choices.join(' ')}` : '_files';
      lines.push(`    ${pattern}) ${action}; return ;;`);
    }
  }
  lines.push('  esac', '  if [[ "$PREFIX" == -* ]]; then', '    case "$cmdpath" in');
  for (const d of all) {
    const flags = [...d.options, ...(d.path.length > 0 ? root.options : [])].flatMap(flagNames);
    lines.push(`      "${key(d)}") opts=(${flags.join(' ')}) ;;`);
  }
  lines.push('    esac', '    compadd -a opts', '    return', '  fi', '  case "$cmdpath" in');
  for (const d of all.filter((c) => c.subcommands.length > 0)) {
    const entries = d.subcommands.map(
      (s) => `'${zshQuote(`${s.path.at(-1)}:${s.summary.replace(/:/g, '\\:')}`)}'`,
    );
    lines.push(`    "${key(d)}") subs=(${entries.join(' ')}); _describe command subs ;;`);
  }
  const idCmds = all.filter(takesRequestIds);
  for (const scope of [...new Set(idCmds.map(idScope))]) {
    const cmds = idCmds.filter((d) => idScope(d) === scope).map((d) => `"${key(d)}"`);
    lines.push(`    ${cmds.join('|')}) _access_request_ids${scope ? ` ${scope}` : ''} ;;`);
  }
  lines.push('  esac', '}', '', 'if (( $+functions[compdef] )); then', '  compdef _access access', 'fi', '');
  return lines.join('\n');
}
