import { describe, expect, test } from 'vitest';
import { conditionUsesTraits } from '../../../src/model/rule-condition.js';

describe('conditionUsesTraits', () => {
  test.each([
    ['access_request.spec.roles.contains("dba") && user.traits["team"].contains("dev")', true],
    ['contains_any(user.traits["team"], set("dev"))', true],
    ['access_request.spec.roles.contains("dba")', false],
    ['access_request.spec.user == "user.traits"', false],
    ['user.traits[', false],
  ])('%s → %s', (condition, uses) => {
    expect(conditionUsesTraits(condition)).toBe(uses);
  });
});
