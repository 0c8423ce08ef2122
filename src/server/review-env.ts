/**
 * The environment of role `review_requests.where` clauses and threshold `filter` expressions,
 * with Teleport's variable names.
 */
import { compilePredicate } from '../model/predicate/compile.js';
import { EQUALS, mapOfLists, type PredicateEnv } from '../model/predicate/env.js';

/** What `review_requests.where` and threshold `filter` expressions can see (Teleport's names). */
export interface ReviewContext {
  reviewer: { roles: string[]; traits: Readonly<Record<string, string[]>> };
  /** Absent for `where` (review permission) expressions. */
  review?: { reason: string; annotations: Readonly<Record<string, string[]>> };
  request: { roles: string[]; reason: string; systemAnnotations: Readonly<Record<string, string[]>> };
}

function regexpMatchAny(list: readonly string[], re: string): boolean {
  let compiled: RegExp;
  try {
    compiled = new RegExp(re);
  } catch {
    // An invalid pattern matches nothing rather than failing a review or a listing.
    return false;
  }
  return list.some((v) => compiled.test(v));
}

/**
 * The environment of review `where` clauses (`withReview` false) and threshold filters
 * (`withReview` true): variables `reviewer.roles`, `reviewer.traits`, `request.roles`,
 * `request.reason`, `request.system_annotations` (and `review.reason`, `review.annotations`),
 * functions `equals`, `contains`, `regexp.match`.
 */
export function reviewEnv(withReview: boolean): PredicateEnv<ReviewContext> {
  return {
    variable(path) {
      const key = path.join('.');
      if (key === 'reviewer.roles') return { type: 'list', get: (c) => c.reviewer.roles };
      if (key === 'request.roles') return { type: 'list', get: (c) => c.request.roles };
      if (key === 'request.reason') return { type: 'string', get: (c) => c.request.reason };
      if (withReview && key === 'review.reason')
        return { type: 'string', get: (c) => c.review?.reason ?? '' };
      return (
        mapOfLists<ReviewContext>(['reviewer', 'traits'], path, (c) => c.reviewer.traits) ??
        mapOfLists<ReviewContext>(
          ['request', 'system_annotations'],
          path,
          (c) => c.request.systemAnnotations,
        ) ??
        (withReview
          ? mapOfLists<ReviewContext>(['review', 'annotations'], path, (c) => c.review?.annotations ?? {})
          : undefined)
      );
    },
    functions: {
      equals: EQUALS,
      contains: {
        params: ['list', 'string'],
        result: 'bool',
        call: ([list, v]) => (list as string[]).includes(v as string),
      },
      'regexp.match': {
        params: ['list', 'string'],
        result: 'bool',
        call: ([list, re]) => regexpMatchAny(list as string[], re as string),
      },
    },
  };
}

const compiled = new Map<string, ((ctx: ReviewContext) => boolean) | null>();

/**
 * Whether a `where` clause (`withReview` false) or a threshold `filter` (`withReview` true)
 * holds for `ctx`. An empty expression holds; one that does not compile matches nothing.
 * Compiled once per text.
 */
export function reviewExprMatches(
  expr: string | undefined,
  withReview: boolean,
  ctx: ReviewContext,
): boolean {
  if (!expr) return true;
  const key = `${withReview ? 'review' : 'where'}\u0000${expr}`;
  let fn = compiled.get(key);
  if (fn === undefined) {
    try {
      fn = compilePredicate(expr, reviewEnv(withReview));
    } catch {
      fn = null;
    }
    compiled.set(key, fn);
  }
  return fn ? fn(ctx) : false;
}
