import { describe, expect, it } from 'vitest';
import { isAdminActionMfaEnforced, isHostIdentityName } from '../../../src/server/policy.js';
import type { AuthPreference } from '../../../src/server/types.js';

describe('isAdminActionMfaEnforced (api/types/authentication.go)', () => {
  const cases: [AuthPreference | undefined, boolean][] = [
    [undefined, false],
    [{ secondFactor: 'off' }, false],
    [{ secondFactor: 'otp' }, false],
    [{ secondFactor: 'on' }, false],
    [{ secondFactor: 'optional' }, false],
    [{ secondFactor: 'webauthn' }, true],
    [{ secondFactors: ['webauthn'] }, true],
    [{ secondFactors: ['webauthn', 'sso'] }, true],
    [{ secondFactors: ['otp', 'webauthn'] }, false],
    [{ secondFactors: [] }, false],
  ];
  it.each(cases)('%j → %s', (pref, enforced) => {
    expect(isAdminActionMfaEnforced(pref)).toBe(enforced);
  });
});

describe('isHostIdentityName (permissions.go: an Auth host impersonator is <uuid>.<cluster>)', () => {
  it.each([
    ['0f3c2a1e-7b4d-4e5f-8a9b-1c2d3e4f5a6b.local', true],
    ['0f3c2a1e-7b4d-4e5f-8a9b-1c2d3e4f5a6b.other', false],
    ['admin', false],
    ['not-a-uuid.local', false],
  ])('%s → %s', (name, host) => {
    expect(isHostIdentityName(name, 'local')).toBe(host);
  });
});
