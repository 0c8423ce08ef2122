/**
 * What an expression may refer to: the variables and functions of an environment, and the
 * pieces every environment shares. Domain environments (review `where`, ListResources,
 * Access Monitoring Rule conditions) live next to the rules that use them.
 */

/** A value an expression can produce. Maps are label maps (string values) or trait maps (lists). */
export type PredicateValue = string | boolean | string[] | Readonly<Record<string, string | string[]>>;

export type ValueType = 'string' | 'bool' | 'list' | 'map';

export interface PredicateVariable<C> {
  type: ValueType;
  /** Undefined when absent (a missing label); absent strings read as `""`, absent lists as `[]`. */
  get(ctx: C): PredicateValue | undefined;
}

export interface PredicateFunction<C> {
  /** Parameter types; `any` accepts any type (the function checks). */
  params: (ValueType | 'any')[];
  /** When set, further arguments of this type are accepted. */
  variadic?: ValueType;
  /** At least this many arguments (defaults to `params.length`). */
  minArgs?: number;
  /** When set, every argument must be a variable; `call` then receives raw (possibly undefined) values. */
  variableArgs?: boolean;
  result: ValueType;
  call(args: (PredicateValue | undefined)[], ctx: C): PredicateValue;
}

/** What an expression may refer to. */
export interface PredicateEnv<C> {
  /** Resolves an identifier path (`labels.env` and `labels["env"]` are both `['labels','env']`). */
  variable(path: readonly string[]): PredicateVariable<C> | undefined;
  functions: Readonly<Record<string, PredicateFunction<C>>>;
  /** Methods: called as `receiver.name(args)`, the receiver being the first parameter. */
  methods?: Readonly<Record<string, PredicateFunction<C>>>;
}

/** `equals(a, b)`: the same string, or lists equal item by item; shared by every environment. */
export const EQUALS: PredicateFunction<unknown> = {
  params: ['any', 'any'],
  result: 'bool',
  call: ([a, b]) => {
    if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
    return typeof a === 'string' && a === b;
  },
};

/** A list variable backed by a map of lists (traits, annotations): `reviewer.traits["team"]`. */
export function mapOfLists<C>(
  prefix: readonly string[],
  path: readonly string[],
  get: (ctx: C) => Readonly<Record<string, string[]>>,
): PredicateVariable<C> | undefined {
  if (path.length < prefix.length || prefix.some((p, i) => path[i] !== p)) return undefined;
  if (path.length === prefix.length) return { type: 'map', get };
  if (path.length === prefix.length + 1) {
    const key = path[prefix.length];
    return { type: 'list', get: (ctx) => get(ctx)[key] };
  }
  return undefined;
}
