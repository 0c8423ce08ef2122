import { stringify } from 'yaml';

/**
 * A value as YAML, the way every command prints it (no line folding). The yaml package is
 * only reached through this module, which callers import dynamically when YAML is asked for.
 */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}
