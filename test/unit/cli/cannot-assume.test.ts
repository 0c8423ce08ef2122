import { describe, expect, it } from 'vitest';
import { cannotAssumeReason } from '../../../src/identity/types.js';

describe('why an identity cannot assume a request (auth_with_roles.go: generateUserCerts)', () => {
  it('names role impersonation, which Teleport never re-issues, before other impersonation', () => {
    expect(cannotAssumeReason({ username: 'ci', impersonator: 'ci', disallowReissue: true })).toBe(
      'it holds roles ci asked for by role impersonation, and Teleport never re-issues such a certificate',
    );
    expect(cannotAssumeReason({ username: 'alice', impersonator: 'admin' })).toMatch(
      /^it was issued for alice by admin \(as `tctl auth sign` does\)/,
    );
    expect(cannotAssumeReason({ username: 'alice' })).toBeUndefined();
  });
});
