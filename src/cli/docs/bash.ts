/** The bash completion script, from the command tree. */
import { type CommandDoc, flagNames, GENERATED, idList, idScope, takesRequestIds, walk } from './tree.js';

export function bashCompletion(root: CommandDoc): string {
  const all = walk(root);
  const globals = root.options;
  const key = (d: CommandDoc) => d.path.join(' ');
  const lines: string[] = [];
  lines.push(
    `# bash completion for access (${GENERATED})`,
    '# Install: source this file, or copy it to ~/.local/share/bash-completion/completions/access',
    '',
  );
  lines.push('_access_request_ids() {', `  ${idList('"$@"')}`, '}', '');
  lines.push('_access_subcommands() {', '  case "$1" in');
  for (const d of all.filter((c) => c.subcommands.length > 0)) {
    lines.push(`    "${key(d)}") echo "${d.subcommands.map((s) => s.path.at(-1)).join(' ')}" ;;`);
  }
  lines.push('  esac', '}', '');
  lines.push(
    '_access_options() {',
    `  local globals="${globals.flatMap(flagNames).join(' ')}"`,
    '  case "$1" in',
  );
  for (const d of all.filter((c) => c.path.length > 0)) {
    lines.push(`    "${key(d)}") echo "${d.options.flatMap(flagNames).join(' ')} $globals" ;;`);
  }
  lines.push('    *) echo "$globals" ;;', '  esac', '}', '');
  lines.push(
    '# Prints the choices of an option that takes a value (or "-" for a free value); fails otherwise.',
  );
  lines.push('_access_option_values() {', '  case "$1|$2" in');
  for (const d of all) {
    for (const o of d.options.filter((x) => x.takesValue)) {
      const pattern = flagNames(o)
        .map((f) => (d.path.length === 0 ? `*"|${f}"` : `"${key(d)}|${f}"`))
        .join('|');
      lines.push(`    ${pattern}) echo "${o.choices.length > 0 ? o.choices.join(' ') : '-'}" ;;`);
    }
  }
  lines.push('    *) return 1 ;;', '  esac', '}', '');
  lines.push(
    '# Prints the `request ls` flags an ID argument completes from; fails for a command without one.',
  );
  lines.push('_access_takes_ids() {', '  case "$1" in');
  const idCmds = all.filter(takesRequestIds);
  for (const scope of [...new Set(idCmds.map(idScope))]) {
    const cmds = idCmds.filter((d) => idScope(d) === scope).map((d) => `"${key(d)}"`);
    lines.push(`    ${cmds.join('|')}) echo "${scope}" ;;`);
  }
  lines.push('    *) return 1 ;;', '  esac', '}', '');
  lines.push(
    '_access() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  local cmdpath="" w i skip=0 subs values scope',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    w="${COMP_WORDS[i]}"',
    '    if ((skip)); then skip=0; continue; fi',
    '    case "$w" in',
    '      -*=*) continue ;;',
    '      -*) _access_option_values "$cmdpath" "$w" >/dev/null && skip=1; continue ;;',
    '    esac',
    '    subs=" $(_access_subcommands "$cmdpath") "',
    '    [[ "$subs" == *" $w "* ]] && cmdpath="${cmdpath:+$cmdpath }$w"',
    '  done',
    '  if values=$(_access_option_values "$cmdpath" "$prev"); then',
    '    if [[ "$values" == "-" ]]; then',
    '      COMPREPLY=($(compgen -f -- "$cur"))',
    '    else',
    '      COMPREPLY=($(compgen -W "$values" -- "$cur"))',
    '    fi',
    '    return 0',
    '  fi',
    '  if [[ "$cur" == -* ]]; then',
    '    COMPREPLY=($(compgen -W "$(_access_options "$cmdpath")" -- "$cur"))',
    '    return 0',
    '  fi',
    '  subs="$(_access_subcommands "$cmdpath")"',
    '  if [[ -n "$subs" ]]; then',
    '    COMPREPLY=($(compgen -W "$subs" -- "$cur"))',
    '  elif scope=$(_access_takes_ids "$cmdpath"); then',
    '    COMPREPLY=($(compgen -W "$(_access_request_ids $scope)" -- "$cur"))',
    '  fi',
    '  return 0',
    '}',
    'complete -F _access access',
    '',
  );
  return lines.join('\n');
}
