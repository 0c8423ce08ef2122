/**
 * Teleport's trait templates (`{{internal.x}}`, `{{external.x}}`, `{{email.local(…)}}`, …),
 * expanded against a user's traits.
 */
import { goRegExp } from '../model/glob.js';

export type Traits = Readonly<Record<string, readonly string[]>>;

/**
 * Teleport's `{{…}}` template: anything but braces, one expression in double braces, anything
 * but braces.
 */
export const TEMPLATE = /^([^{}]*)\{\{(\s*[^{}]*\s*)\}\}([^{}]*)$/;

/** The string of a double-quoted argument (`"…"`), or undefined when it is not one. */
export function parseStringArg(text: string): string | undefined {
  const t = text.trim();
  if (t.length < 2 || t[0] !== '"' || t[t.length - 1] !== '"') return undefined;
  try {
    return JSON.parse(t) as string;
  } catch {
    return undefined;
  }
}

/** Why a trait template could not be expanded (a missing trait, a malformed template). */
export class TraitError extends Error {
  override readonly name = 'TraitError';
  constructor(
    message: string,
    /** True when the expression is fine but the user lacks the trait (Teleport's trace.NotFound). */
    readonly missingTrait = false,
  ) {
    super(message);
  }
}

function traitValues(namespace: string, name: string, traits: Traits): readonly string[] {
  if (namespace !== 'internal' && namespace !== 'external') {
    throw new TraitError(`unsupported variable namespace ${JSON.stringify(namespace)}`);
  }
  if (!Object.hasOwn(traits, name)) throw new TraitError(`variable not found: ${namespace}.${name}`, true);
  return traits[name];
}

function evalTraitExpr(expr: string, traits: Traits): string[] {
  const e = expr.trim();
  const emailLocal = /^email\.local\((.*)\)$/.exec(e);
  if (emailLocal) {
    return evalTraitExpr(emailLocal[1], traits).map((v) => {
      const at = v.indexOf('@');
      if (at <= 0) throw new TraitError(`email.local: ${JSON.stringify(v)} is not an email address`);
      return v.slice(0, at);
    });
  }
  const replace = /^regexp\.replace\((.*),\s*("(?:[^"\\]|\\.)*")\s*,\s*("(?:[^"\\]|\\.)*")\s*\)$/.exec(e);
  if (replace) {
    const re = goRegExp(parseStringArg(replace[2]) ?? '');
    const replacement = (parseStringArg(replace[3]) ?? '').replace(/\$\{?(\d+)\}?/g, '$$$1');
    return evalTraitExpr(replace[1], traits)
      .filter((v) => re.test(v))
      .map((v) => v.replace(new RegExp(re.source, `${re.flags}g`), replacement));
  }
  const dotted = /^([A-Za-z_]+)\.([A-Za-z0-9_.-]+)$/.exec(e);
  if (dotted) return [...traitValues(dotted[1], dotted[2], traits)];
  const indexed = /^([A-Za-z_]+)\[\s*("(?:[^"\\]|\\.)*")\s*\]$/.exec(e);
  if (indexed) return [...traitValues(indexed[1], parseStringArg(indexed[2]) ?? '', traits)];
  throw new TraitError(`unsupported expression ${JSON.stringify(e)}`);
}

/**
 * Expands `prefix{{internal.x}}suffix` into one value per trait value (empty values dropped),
 * or returns the literal. Throws TraitError when a trait is missing or the template is invalid;
 * Teleport callers skip such values. Both namespaces read the user's traits (local users
 * have no separate external traits).
 */
export function applyValueTraits(template: string, traits: Traits): string[] {
  const m = TEMPLATE.exec(template);
  if (!m) {
    if (template.includes('{{') || template.includes('}}')) {
      throw new TraitError(
        `${JSON.stringify(template)} is using template brackets '{{' or '}}' but does not parse`,
      );
    }
    return [template];
  }
  const [, prefix, expr, suffix] = m;
  return evalTraitExpr(expr, traits)
    .filter((v) => v !== '')
    .map((v) => `${prefix.trimStart()}${v}${suffix.trimEnd()}`);
}

/** Like applyValueTraits, but a value that cannot be expanded yields nothing. */
export function expandOrSkip(template: string, traits: Traits): string[] {
  try {
    return applyValueTraits(template, traits);
  } catch (err) {
    if (err instanceof TraitError) return [];
    throw err;
  }
}
