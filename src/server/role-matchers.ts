/**
 * Teleport's role-name matchers: literal, `*` glob, `^…$` regular expression,
 * `{{regexp.match("…")}}`, `{{regexp.not_match("…")}}`, and claims_to_roles.
 */
import { globToRegExp, goRegExp, literalMatcher } from '../model/glob.js';
import { parseStringArg, TEMPLATE, type Traits } from './traits.js';
import type { ClaimMapping } from './types.js';

/**
 * Compiles a role matcher expression. Throws an Error describing what is wrong when the
 * expression does not parse (template brackets without a supported function, a bad regexp).
 */
export function compileRoleMatcher(pattern: string): (value: string) => boolean {
  const m = TEMPLATE.exec(pattern);
  if (!m) {
    if (pattern.includes('{{') || pattern.includes('}}')) {
      throw new Error(
        `${JSON.stringify(pattern)} is using template brackets '{{' or '}}', however expression does not parse, make sure the format is {{expression}}`,
      );
    }
    try {
      return literalMatcher(pattern);
    } catch (err) {
      throw new Error(`failed to parse regexp ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
  }
  const [, prefix, expr, suffix] = m;
  const call = /^\s*regexp\.(match|not_match)\((.*)\)\s*$/.exec(expr);
  if (!call) {
    throw new Error(
      `${JSON.stringify(pattern)}: unsupported matcher expression ${JSON.stringify(expr.trim())} (use regexp.match("…") or regexp.not_match("…"))`,
    );
  }
  const source = parseStringArg(call[2]);
  if (source === undefined) {
    throw new Error(`${JSON.stringify(pattern)}: regexp.${call[1]} takes one quoted regular expression`);
  }
  let re: RegExp;
  try {
    re = goRegExp(source);
  } catch (err) {
    throw new Error(`${JSON.stringify(pattern)}: invalid regular expression: ${(err as Error).message}`);
  }
  const negate = call[1] === 'not_match';
  return (value) => {
    if (
      !value.startsWith(prefix) ||
      !value.endsWith(suffix) ||
      value.length < prefix.length + suffix.length
    ) {
      return false;
    }
    const inner = value.slice(prefix.length, value.length - suffix.length);
    return re.test(inner) !== negate;
  };
}

const matcherCache = new Map<string, (value: string) => boolean>();

/** Whether `value` matches the role matcher `pattern`; an invalid pattern matches nothing. */
export function matchRoleExpr(pattern: string, value: string): boolean {
  let fn = matcherCache.get(pattern);
  if (!fn) {
    try {
      fn = compileRoleMatcher(pattern);
    } catch {
      fn = () => false;
    }
    matcherCache.set(pattern, fn);
  }
  return fn(value);
}

export function matchesAny(patterns: readonly string[] | undefined, value: string): boolean {
  return (patterns ?? []).some((p) => matchRoleExpr(p, value));
}

/**
 * Role patterns granted by claims_to_roles: for every trait value of `claim` matched by `value`
 * (glob or `^…$` regexp, with `$1` captures substituted into the roles), the mapping's roles.
 */
export function claimsToRolePatterns(
  mappings: readonly ClaimMapping[] | undefined,
  traits: Traits,
): string[] {
  const out: string[] = [];
  for (const mapping of mappings ?? []) {
    const values = Object.hasOwn(traits, mapping.claim) ? traits[mapping.claim] : [];
    let re: RegExp;
    try {
      re =
        mapping.value.startsWith('^') && mapping.value.endsWith('$')
          ? goRegExp(mapping.value)
          : globToRegExp(mapping.value);
    } catch {
      continue;
    }
    for (const v of values) {
      const m = re.exec(v);
      if (!m) continue;
      for (const role of mapping.roles) {
        const expanded = role.replace(/\$\{?(\d+)\}?/g, (_, n: string) => m[Number(n)] ?? '');
        if (expanded !== '') out.push(expanded);
      }
    }
  }
  return out;
}

/** The role matchers of a request or review condition: its roles plus its claims_to_roles results. */
export function roleMatchers(
  cond: { roles?: string[]; claims_to_roles?: ClaimMapping[] } | undefined,
  traits: Traits,
): string[] {
  return [...(cond?.roles ?? []), ...claimsToRolePatterns(cond?.claims_to_roles, traits)];
}
