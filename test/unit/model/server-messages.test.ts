import { describe, expect, it } from 'vitest';
import { hintForServerAnswer, isAdminMfaRefusal } from '../../../src/model/server-messages.js';

describe('hints for Teleport answers (keyed on the code first, then the text)', () => {
  it.each([
    [7, 'admin-level API request requires MFA verification', /Machine ID bot identity/],
    [7, 'user "bob" has already reviewed this request', /reviews a request once/],
    [7, 'the access request has been already approved', /already resolved/],
    [
      7,
      'user "alice" cannot review request "x": requester and reviewer must be different users',
      /your own request/,
    ],
    [3, 'cannot set request-state "APPROVED" (already denied)', /already resolved/],
  ])('%i %s', (code, text, hint) => {
    expect(hintForServerAnswer(code, text)).toMatch(hint);
  });

  it('gives none for another code with the same text, or for unknown texts', () => {
    expect(hintForServerAnswer(13, 'admin-level API request requires MFA verification')).toBeUndefined();
    expect(hintForServerAnswer(7, 'access denied')).toBeUndefined();
    expect(isAdminMfaRefusal(7, 'admin-level API request requires MFA verification')).toBe(true);
    expect(isAdminMfaRefusal(3, 'admin-level API request requires MFA verification')).toBe(false);
  });
});
