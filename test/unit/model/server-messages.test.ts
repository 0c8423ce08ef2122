import { describe, expect, it } from 'vitest';
import { hintForServerAnswer, isAdminMfaRefusal } from '../../../src/model/server-messages.js';

describe('hints for Teleport answers (keyed on the code first, then the text)', () => {
  it.each([
    ['PERMISSION_DENIED', 'admin-level API request requires MFA verification', /Machine ID bot identity/],
    ['PERMISSION_DENIED', 'user "bob" has already reviewed this request', /reviews a request once/],
    ['PERMISSION_DENIED', 'the access request has been already approved', /already resolved/],
    [
      'PERMISSION_DENIED',
      'user "alice" cannot review request "x": requester and reviewer must be different users',
      /your own request/,
    ],
    ['INVALID_ARGUMENT', 'cannot set request-state "APPROVED" (already denied)', /already resolved/],
  ])('%s %s', (code, text, hint) => {
    expect(hintForServerAnswer(code, text)).toMatch(hint);
  });

  it('gives none for another code with the same text, or for unknown texts', () => {
    expect(
      hintForServerAnswer('INTERNAL', 'admin-level API request requires MFA verification'),
    ).toBeUndefined();
    expect(hintForServerAnswer('PERMISSION_DENIED', 'access denied')).toBeUndefined();
    expect(isAdminMfaRefusal('PERMISSION_DENIED', 'admin-level API request requires MFA verification')).toBe(
      true,
    );
    expect(isAdminMfaRefusal('INVALID_ARGUMENT', 'admin-level API request requires MFA verification')).toBe(
      false,
    );
  });
});
