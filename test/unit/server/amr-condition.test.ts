import { describe, expect, it } from 'vitest';
import { PredicateError } from '../../../src/model/predicate/parse.js';
import { type AmrContext, compileCondition, resourceLabelMaps } from '../../../src/model/rule-condition.js';

const labels = resourceLabelMaps([
  { env: 'dev', team: 'payments' },
  { env: 'dev', team: 'search' },
]);
const alice: AmrContext = {
  roles: ['dba', 'auditor'],
  suggestedReviewers: ['bob'],
  systemAnnotations: { ticket: ['OPS-1'] },
  user: 'alice',
  reason: 'on-call incident 42',
  labelsIntersection: labels.intersection,
  labelsUnion: labels.union,
  traits: { team: ['dev'], level: ['L1'] },
};
const dave: AmrContext = {
  roles: ['access'],
  suggestedReviewers: [],
  systemAnnotations: {},
  user: 'dave',
  reason: '',
  labelsIntersection: {},
  labelsUnion: {},
  traits: { team: ['contractors'] },
};

describe('Access Monitoring Rule conditions: evaluation', () => {
  const cases: [string, boolean, boolean][] = [
    ['true', true, true],
    ['false', false, false],
    ['access_request.spec.roles.contains("dba")', true, false],
    ['contains(access_request.spec.roles, "access")', false, true],
    ['contains_any(access_request.spec.roles, set("dba", "x"))', true, false],
    ['contains_any(user.traits["team"], set("dev", "stage"))', true, false],
    ['contains_all(access_request.spec.roles, set("dba", "auditor"))', true, false],
    ['contains_all(access_request.spec.roles, set("dba", "root"))', false, false],
    ['contains_all(set("access"), access_request.spec.roles)', false, true],
    // lib/expression: contains_all of an empty set is false.
    ['contains_all(access_request.spec.roles, set())', false, false],
    ['is_empty(access_request.spec.suggested_reviewers)', false, true],
    ['is_empty(set())', true, true],
    ['access_request.spec.user == "alice"', true, false],
    ['access_request.spec.user != "alice"', false, true],
    ['equals(access_request.spec.user, "dave")', false, true],
    ['equals(access_request.spec.roles, set("dba", "auditor"))', true, false],
    ['regexp.match(user.traits["level"], "^L1$")', true, false],
    ['regexp.match(user.traits["level"], "^L[2-9]$")', false, false],
    ['regexp.match(set(access_request.spec.request_reason), "*on-call*")', true, false],
    ['regexp.match(access_request.spec.roles, "db*")', true, false],
    ['regexp.match(access_request.spec.roles, "^(?:x|acc.*)$")', false, true],
    ['user.traits["team"].contains("contractors")', false, true],
    ['user.traits.team.contains("dev")', true, false],
    ['user.traits["missing"].contains("x")', false, false],
    ['is_empty(user.traits["missing"])', true, true],
    ['access_request.spec.resource_labels_intersection["env"].contains("dev")', true, false],
    ['access_request.spec.resource_labels_intersection["team"].contains("payments")', false, false],
    ['access_request.spec.resource_labels_union["team"].contains("search")', true, false],
    ['access_request.spec.system_annotations["ticket"].contains("OPS-1")', true, false],
    ['!access_request.spec.roles.contains("dba")', false, true],
    ['access_request.spec.roles.contains("dba") && access_request.spec.user == "alice"', true, false],
    ['access_request.spec.roles.contains("dba") || access_request.spec.user == "dave"', true, true],
    ['(access_request.spec.user == "x" || true) && !false', true, true],
    ['access_request.spec.roles.contains_any(set("access"))', false, true],
    ['access_request.spec.request_reason == ""', false, true],
  ];
  for (const [expr, onAlice, onDave] of cases) {
    it(expr, () => {
      const c = compileCondition(expr);
      expect([c.test(alice), c.test(dave)]).toEqual([onAlice, onDave]);
    });
  }
});

describe('Access Monitoring Rule conditions: rejected with a position', () => {
  const cases: [string, string][] = [
    ['access_request.spec.roles.contains("dba"', 'expected ")" but found end of expression at position 40'],
    [
      'access_request.spec.role.contains("dba")',
      'unknown identifier "access_request.spec.role" at position 0',
    ],
    ['access_request.spec.rolez == "x"', 'unknown identifier "access_request.spec.rolez" at position 0'],
    [
      'contains_any(access_request.spec.roles, "dba")',
      'argument 2 of function "contains_any" must be a list, got string at position 40',
    ],
    [
      'contains_all(access_request.spec.roles)',
      'function "contains_all" takes 2 arguments, got 1 at position 0',
    ],
    ['access_request.spec.roles.contains(1)', 'number literals are not supported at position 35'],
    [
      "access_request.spec.user == 'alice'",
      'single-quoted strings are not supported, use "…" at position 28',
    ],
    ['access_request.spec.roles', 'expression must be a condition (boolean), got list at position 0'],
    [
      'access_request.spec.roles == set("a")',
      'operator "==" compares two strings (or two booleans), got list and list at position 26',
    ],
    ['user.traits["team"]("x")', 'unexpected "(" at position 19'],
    [
      'access_request.spec.user.contains("a")',
      'receiver of method "contains" must be a list, got string at position 0',
    ],
    ['access_request.spec.roles.contains()', 'function "contains" takes 1 argument, got 0 at position 26'],
    ['split(access_request.spec.user, ",")', 'unsupported function "split" at position 0'],
    ['access_request.spec.roles.contains("a") &&', 'unexpected end of expression at position 42'],
    ['&& true', 'unexpected "&&" at position 0'],
  ];
  for (const [expr, message] of cases) {
    it(expr, () => {
      let error: unknown;
      try {
        compileCondition(expr);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(PredicateError);
      expect((error as Error).message).toBe(message);
    });
  }
});

describe('explaining a mismatch', () => {
  it('names each top-level part that failed, in source text', () => {
    const c = compileCondition(
      'access_request.spec.roles.contains("dba") && (access_request.spec.user == "x" || false) && user.traits["team"].contains("dev")',
    );
    expect(c.failedParts(alice)).toEqual(['(access_request.spec.user == "x" || false)']);
    expect(c.failedParts(dave)).toEqual([
      'access_request.spec.roles.contains("dba")',
      '(access_request.spec.user == "x" || false)',
      'user.traits["team"].contains("dev")',
    ]);
  });
});
