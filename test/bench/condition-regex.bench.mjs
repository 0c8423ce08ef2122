// regexp.match in a rule condition with the catastrophic pattern ^(a+)+$ against a reviewer name
// of n a's and one b: JavaScript's backtracking RegExp (the engine conditions used before re2js)
// doubles its time with each character; RE2 stays linear. Prints figures, asserts nothing.
import { compileCondition } from '../../dist/model/rule-condition.js';

const ctx = (name) => ({
  roles: [],
  suggestedReviewers: [name],
  systemAnnotations: {},
  user: 'alice',
  reason: '',
  labelsIntersection: {},
  labelsUnion: {},
  traits: {},
});
const ms = (f) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
const cond = compileCondition('regexp.match(access_request.spec.suggested_reviewers, "^(a+)+$")');
const backtracking = /^(a+)+$/;

console.log('n  | JavaScript RegExp ms | RE2 (re2js) ms');
for (const n of [16, 18, 20, 22, 24, 32, 1000]) {
  const name = `${'a'.repeat(n)}b`;
  const js = n <= 24 ? ms(() => backtracking.test(name)).toFixed(1) : '(not run: ~2^n)';
  const re2 = ms(() => cond.evaluate(ctx(name))).toFixed(2);
  console.log(`${String(n).padEnd(3)}| ${js.padEnd(20)}| ${re2}`);
}
