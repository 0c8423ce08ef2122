/**
 * Teleport's plain matcher strings: a literal, a `*` glob, or a `^…$` regular expression
 * (Go syntax, inline flags allowed). Shared by role matchers and rule conditions.
 */

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** `*` matches any run of characters; everything else is literal. Anchored. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map(escapeRegExp).join('.*')}$`);
}

/** Go regular expressions may open with inline flags (`(?i)`); JavaScript takes them as flags. */
export function goRegExp(source: string): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(source);
  return m ? new RegExp(source.slice(m[0].length), m[1]) : new RegExp(source);
}

/** A literal, a glob, or a `^…$` regular expression (Teleport's rule for plain matcher strings). */
export function literalMatcher(pattern: string): (value: string) => boolean {
  if (pattern === '*') return () => true;
  if (pattern.startsWith('^') && pattern.endsWith('$')) {
    const re = goRegExp(pattern);
    return (v) => re.test(v);
  }
  if (!pattern.includes('*')) return (v) => v === pattern;
  const re = globToRegExp(pattern);
  return (v) => re.test(v);
}
