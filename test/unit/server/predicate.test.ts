import { describe, expect, it } from 'vitest';
import { compilePredicate } from '../../../src/model/predicate/compile.js';
import { MAX_PREDICATE_DEPTH, PredicateError } from '../../../src/model/predicate/parse.js';
import { compileResourcePredicate } from '../../../src/server/resource-predicate.js';
import { type ReviewContext, reviewEnv } from '../../../src/server/review-env.js';
import type { Resource } from '../../../src/server/types.js';

const web: Resource = {
  kind: 'node',
  name: '8c3a5f1e-0001',
  hostname: 'web-dev-1',
  addr: '10.0.1.10:3022',
  labels: { env: 'dev', role: 'web', 'team.io/owner': 'payments' },
};
const db: Resource = { kind: 'node', name: '8c3a5f1e-0002', hostname: 'db-prod-1', labels: { env: 'prod' } };

describe('resource predicates: accepted', () => {
  const cases: [string, boolean, boolean][] = [
    ['labels["env"] == "dev"', true, false],
    ['labels.env == "prod"', false, true],
    ['labels.env != "dev"', false, true],
    ['!(labels.env == "dev")', false, true],
    ['labels["team.io/owner"] == "payments"', true, false],
    ['resource.metadata.labels["env"] == "dev"', true, false],
    ['exists(labels.role)', true, false],
    ['!exists(labels["role"])', false, true],
    ['hasPrefix(hostname, "db-")', false, true],
    ['hasPrefix(resource.spec.hostname, "web")', true, false],
    ['resource.metadata.name == "8c3a5f1e-0002"', false, true],
    ['name == "8c3a5f1e-0001" || name == "8c3a5f1e-0002"', true, true],
    ['labels.env == "dev" && hasPrefix(hostname, "web") || labels.env == "prod"', true, true],
    ['labels.env == "dev" && (hasPrefix(hostname, "db") || labels.env == "prod")', false, false],
    ['search("WEB")', true, false],
    ['search("payments", "dev")', true, false],
    ['search("10.0.1")', true, false],
    ['labels.missing == ""', true, true],
    ['labels.env == "d\\u0065v"', true, false],
    ['labels.env == `dev`', true, false],
    ['true && !false', true, true],
  ];
  for (const [expr, onWeb, onDb] of cases) {
    it(expr, () => {
      const p = compileResourcePredicate(expr);
      expect([p(web), p(db)]).toEqual([onWeb, onDb]);
    });
  }
});

describe('resource predicates: rejected with the construct and position', () => {
  const cases: [string, string][] = [
    ['split(name, "-") == "x"', 'unsupported function "split" at position 0'],
    ['labels.env == "x" && contains(labels, "y")', 'unsupported function "contains" at position 21'],
    ['labels.env == ', 'unexpected end of expression at position 14'],
    ['labels.env = "x"', 'unexpected character "=" at position 11'],
    ['labels.env == "x', 'unterminated string at position 14'],
    ["labels.env == 'x'", 'single-quoted strings are not supported, use "…" at position 14'],
    ['labels.env == 5', 'number literals are not supported at position 14'],
    ['foo == "x"', 'unknown identifier "foo" at position 0'],
    ['labels.env', 'expression must be a condition (boolean), got string at position 0'],
    ['labels.env && true', 'operator "&&" expects bool operands, got string at position 11'],
    ['hasPrefix(name)', 'function "hasPrefix" takes 2 arguments, got 1 at position 0'],
    ['search()', 'function "search" takes at least 1 argument, got 0 at position 0'],
    ['exists("env")', 'function "exists" takes a field such as labels.env at position 7'],
    ['labels[env] == "x"', 'expected a quoted key inside "[…]" but found identifier "env" at position 7'],
    ['(labels.env == "x"', 'expected ")" but found end of expression at position 18'],
    ['labels.env == "x" labels.role == "y"', 'unexpected identifier "labels" at position 18'],
    [
      'name == labels',
      'operator "==" compares two strings (or two booleans), got string and map at position 5',
    ],
    ['', 'empty expression at position 0'],
    ['"a\\q"', 'invalid escape sequence "\\q" in string at position 2'],
  ];
  for (const [expr, message] of cases) {
    it(expr === '' ? '(empty)' : expr, () => {
      let error: unknown;
      try {
        compileResourcePredicate(expr);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(PredicateError);
      expect((error as Error).message).toBe(message);
    });
  }
});

describe('review where / threshold filter expressions', () => {
  const ctx: ReviewContext = {
    reviewer: { roles: ['reviewer'], traits: { team: ['dba', 'sre'] } },
    review: { reason: 'looks fine', annotations: {} },
    request: { roles: ['dba'], reason: 'INC-1', systemAnnotations: { team: ['dev'] } },
  };

  it.each([
    ['contains(request.roles, "dba")', true],
    ['contains(reviewer.traits["team"], "sre") && !contains(request.roles, "admin")', true],
    ['equals(request.system_annotations["team"], reviewer.traits["team"])', false],
    ['equals(request.reason, "INC-1")', true],
    ['regexp.match(reviewer.traits["team"], "^db")', true],
    ['regexp.match(reviewer.roles, "(")', false],
    ['equals(review.reason, "")', false],
  ])('%s is %s', (expr, want) => {
    expect(compilePredicate(expr, reviewEnv(true))(ctx)).toBe(want);
  });

  it('does not expose review fields to where clauses', () => {
    expect(() => compilePredicate('equals(review.reason, "")', reviewEnv(false))).toThrow(
      'unknown identifier "review.reason" at position 7',
    );
  });

  it('rejects unsupported functions', () => {
    expect(() => compilePredicate('hasPrefix(request.reason, "INC")', reviewEnv(true))).toThrow(
      'unsupported function "hasPrefix" at position 0',
    );
  });
});

describe('resource predicates: nesting is bounded, chains are not', () => {
  const leaf = 'labels.env == "dev"';
  const parens = (n: number) => `${'('.repeat(n)}${leaf}${')'.repeat(n)}`;

  it.each([
    ['20,000 parentheses', parens(20_000), MAX_PREDICATE_DEPTH],
    ['20,000 negations', `${'!'.repeat(20_000)}(${leaf})`, MAX_PREDICATE_DEPTH],
    [
      '20,000 nested calls',
      `${'exists('.repeat(20_000)}labels.env${')'.repeat(20_000)}`,
      7 * MAX_PREDICATE_DEPTH,
    ],
  ])('%s: a PredicateError naming the position, not a stack overflow', (_name, source, position) => {
    let err: unknown;
    try {
      compileResourcePredicate(source);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PredicateError);
    expect((err as PredicateError).message).toBe(
      `expression is nested too deeply (more than ${MAX_PREDICATE_DEPTH} levels) at position ${position}`,
    );
  });

  it('the deepest allowed nesting still evaluates', () => {
    expect(compileResourcePredicate(parens(MAX_PREDICATE_DEPTH - 1))(web)).toBe(true);
  });

  it('a chain of 5,000 conditions is one flat list that compiles and evaluates', () => {
    const anyOf = Array.from({ length: 5_000 }, (_, i) => `labels.env == "e${i}"`).join(' || ');
    expect(compileResourcePredicate(`${anyOf} || ${leaf}`)(web)).toBe(true);
    expect(compileResourcePredicate(anyOf)(web)).toBe(false);
    const allOf = Array.from({ length: 5_000 }, () => leaf).join(' && ');
    expect(compileResourcePredicate(allOf)(web)).toBe(true);
    expect(compileResourcePredicate(allOf)(db)).toBe(false);
  });

  it('a type error inside a chain names the operator before the bad operand', () => {
    expect(() => compileResourcePredicate(`${leaf} && ${leaf} && labels.env`)).toThrow(
      'operator "&&" expects bool operands, got string at position 43',
    );
  });
});
