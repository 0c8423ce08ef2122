/**
 * The condition language of Access Monitoring Rules, on the shared predicate engine.
 *
 * Fields and functions as Teleport defines them in lib/accessmonitoring/request_mapping.go
 * (newRequestConditionParser) and lib/expression/parser.go (DefaultParserSpec), documented in
 * docs/pages/reference/access-controls/predicate-language.mdx ("Access Monitoring Rules").
 * Sets are our `list` type; maps of sets are `map`.
 */
import { literalMatcher } from './glob.js';
import { compileExplainedPredicate, type ExplainedPredicate } from './predicate/compile.js';
import {
  EQUALS,
  type PredicateEnv,
  type PredicateFunction,
  type PredicateVariable,
} from './predicate/env.js';

/** What a condition sees of an access request (AccessRequestExpressionEnv). */
export interface AmrContext {
  roles: readonly string[];
  suggestedReviewers: readonly string[];
  systemAnnotations: Readonly<Record<string, readonly string[]>>;
  user: string;
  reason: string;
  /** Labels common to every requested resource (key → values present on all). */
  labelsIntersection: Readonly<Record<string, readonly string[]>>;
  /** Labels of any requested resource (key → every value seen). */
  labelsUnion: Readonly<Record<string, readonly string[]>>;
  traits: Readonly<Record<string, readonly string[]>>;
}

type ListMap = Readonly<Record<string, readonly string[]>>;

function mapVariable(
  prefix: readonly string[],
  path: readonly string[],
  get: (c: AmrContext) => ListMap,
): PredicateVariable<AmrContext> | undefined {
  if (path.length < prefix.length || prefix.some((p, i) => path[i] !== p)) return undefined;
  if (path.length === prefix.length) return { type: 'map', get: (c) => get(c) as Record<string, string[]> };
  if (path.length === prefix.length + 1) {
    const key = path[prefix.length];
    return { type: 'list', get: (c) => (Object.hasOwn(get(c), key) ? [...get(c)[key]] : []) };
  }
  return undefined;
}

const SCALARS: Record<string, PredicateVariable<AmrContext>> = {
  'access_request.spec.roles': { type: 'list', get: (c) => [...c.roles] },
  'access_request.spec.suggested_reviewers': { type: 'list', get: (c) => [...c.suggestedReviewers] },
  'access_request.spec.user': { type: 'string', get: (c) => c.user },
  'access_request.spec.request_reason': { type: 'string', get: (c) => c.reason },
};

const MAPS: [string[], (c: AmrContext) => ListMap][] = [
  [['access_request', 'spec', 'system_annotations'], (c) => c.systemAnnotations],
  [['access_request', 'spec', 'resource_labels_intersection'], (c) => c.labelsIntersection],
  [['access_request', 'spec', 'resource_labels_union'], (c) => c.labelsUnion],
  [['user', 'traits'], (c) => c.traits],
];

/** lib/utils: RegexMatchesAny — `^…$` is a regular expression, anything else a glob. */
const matcherCache = new Map<string, ((v: string) => boolean) | null>();
function regexpMatchAny(list: readonly string[], pattern: string): boolean {
  let m = matcherCache.get(pattern);
  if (m === undefined) {
    try {
      m = literalMatcher(pattern);
    } catch {
      m = null;
    }
    matcherCache.set(pattern, m);
  }
  return m !== null && list.some((v) => m(v));
}

const containsFn: PredicateFunction<AmrContext> = {
  params: ['list', 'string'],
  result: 'bool',
  call: ([list, v]) => (list as string[]).includes(v as string),
};
const containsAny: PredicateFunction<AmrContext> = {
  params: ['list', 'list'],
  result: 'bool',
  call: ([set, items]) => (items as string[]).some((v) => (set as string[]).includes(v)),
};
// lib/expression/parser.go: contains_all is false for an empty item set.
const containsAll: PredicateFunction<AmrContext> = {
  params: ['list', 'list'],
  result: 'bool',
  call: ([set, items]) =>
    (items as string[]).length > 0 && (items as string[]).every((v) => (set as string[]).includes(v)),
};
const isEmpty: PredicateFunction<AmrContext> = {
  params: ['list'],
  result: 'bool',
  call: ([set]) => (set as string[]).length === 0,
};

/** The environment of `spec.condition`. */
export const AMR_CONDITION_ENV: PredicateEnv<AmrContext> = {
  variable(path) {
    const key = path.join('.');
    if (Object.hasOwn(SCALARS, key)) return SCALARS[key];
    for (const [prefix, get] of MAPS) {
      const v = mapVariable(prefix, path, get);
      if (v) return v;
    }
    return undefined;
  },
  functions: {
    set: {
      params: [],
      variadic: 'string',
      minArgs: 0,
      result: 'list',
      call: (args) => [...new Set(args as string[])],
    },
    contains: containsFn,
    contains_any: containsAny,
    contains_all: containsAll,
    is_empty: isEmpty,
    equals: EQUALS,
    'regexp.match': {
      params: ['list', 'string'],
      result: 'bool',
      call: ([list, re]) => regexpMatchAny(list as string[], re as string),
    },
  },
  methods: { contains: containsFn, contains_any: containsAny, contains_all: containsAll, isempty: isEmpty },
};

const compiled = new Map<string, ExplainedPredicate<AmrContext>>();
const MAX_CACHED = 512;

/**
 * Compiles a rule condition once (cached by its text); throws a PredicateError, with the
 * position, when it does not parse or type-check.
 */
export function compileCondition(source: string): ExplainedPredicate<AmrContext> {
  let c = compiled.get(source);
  if (!c) {
    c = compileExplainedPredicate(source, AMR_CONDITION_ENV);
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!);
    compiled.set(source, c);
  }
  return c;
}

/** Label maps over the labels of the requested resources (union and intersection). */
export function resourceLabelMaps(labels: readonly Readonly<Record<string, string>>[]): {
  union: Record<string, string[]>;
  intersection: Record<string, string[]>;
} {
  const union: Record<string, string[]> = {};
  for (const l of labels) {
    for (const [k, v] of Object.entries(l)) {
      union[k] ??= [];
      if (!union[k].includes(v)) union[k].push(v);
    }
  }
  const intersection: Record<string, string[]> = {};
  if (labels.length > 0) {
    for (const [k, v] of Object.entries(labels[0])) {
      if (labels.every((l) => Object.hasOwn(l, k) && l[k] === v)) intersection[k] = [v];
    }
  }
  return { union, intersection };
}

/**
 * Whether a condition reads `user.traits` (false for one that does not compile): compiled
 * against the real environment, watching which variables it resolves.
 */
export function conditionUsesTraits(source: string): boolean {
  let uses = false;
  const watching: PredicateEnv<AmrContext> = {
    ...AMR_CONDITION_ENV,
    variable(path) {
      if (path[0] === 'user' && path[1] === 'traits') uses = true;
      return AMR_CONDITION_ENV.variable(path);
    },
  };
  try {
    compileExplainedPredicate(source, watching);
  } catch {
    return false;
  }
  return uses;
}
