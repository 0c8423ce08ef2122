import { describe, expect, it } from 'vitest';
import { reportFor } from '../../../src/cli/main.js';
import { fromStatus } from '../../../src/client/errors.js';
import {
  CLIENT_CREDENTIALS_EXPIRED,
  CREATE_SELF_NON_PENDING,
  cannotReviewRequest,
  hintForServerAnswer,
  isAdminMfaRefusal,
  requestAwaitingApproval,
  requestCannotBeAssumedUntil,
  requestDenied,
  requestExpired,
  requestNotFound,
} from '../../../src/model/server-messages.js';

const ID = '0193c1e2-aaaa-7bbb-8ccc-0123456789ab';

/**
 * Teleport's own texts, written out as its source formats them (not through our constants),
 * with the gRPC status they travel with, the hint we add and the exit code it ends in.
 */
const TELEPORT: [string, string, string, RegExp, number][] = [
  // api/mfa: ErrAdminActionMFARequired
  [
    'admin MFA',
    'PERMISSION_DENIED',
    'admin-level API request requires MFA verification',
    /Machine ID bot identity/,
    7,
  ],
  // lib/services/access_request.go, checkReviewCompat / ApplyAccessReview
  [
    'second review',
    'PERMISSION_DENIED',
    'user "bob" has already reviewed this request',
    /reviews a request once/,
    7,
  ],
  ['resolved', 'PERMISSION_DENIED', 'the access request has been already approved', /already resolved/, 7],
  // lib/services/local/dynamic_access.go, ApplyAccessReview (own request or roles that do not cover it)
  [
    'cannot review',
    'PERMISSION_DENIED',
    `user "alice" cannot review request "${ID}"`,
    /your own request|review_requests/,
    7,
  ],
  // api/types/access_request.go, SetState
  [
    'set resolved',
    'INVALID_ARGUMENT',
    'cannot set request-state "APPROVED" (already denied)',
    /already resolved/,
    2,
  ],
  // api/client: ErrClientCredentialsHaveExpired (generateUserCerts)
  [
    'expired credentials',
    'PERMISSION_DENIED',
    'access denied: client credentials have expired, please relogin.',
    /log in again/,
    7,
  ],
  // lib/auth/auth_with_roles.go, generateUserCerts (a role-impersonated certificate)
  [
    'no reissue',
    'PERMISSION_DENIED',
    'access denied: identity is not allowed to reissue certificates',
    /never re-issues/,
    7,
  ],
  // lib/auth/auth.go, getValidatedAccessRequest
  ['request not found', 'NOT_FOUND', `access request "${ID}" not found`, /access request drop ID/, 6],
  [
    'awaiting approval',
    'PERMISSION_DENIED',
    `access request "${ID}" is awaiting approval`,
    /access request wait ID/,
    7,
  ],
  ['denied', 'PERMISSION_DENIED', `access request "${ID}" has been denied`, /cannot be assumed/, 7],
  [
    'promoted',
    'PERMISSION_DENIED',
    `access request "${ID}" has been promoted. Use access list to access resources.`,
    /cannot be assumed/,
    7,
  ],
  ['access expired', 'INVALID_ARGUMENT', `access request "${ID}" has expired`, /create a new request/, 2],
  [
    'not yet',
    'INVALID_ARGUMENT',
    `access request "${ID}" can not be assumed until 2026-12-08 10:00:00 +0000 UTC`,
    /start time/,
    2,
  ],
  // lib/auth/auth_with_roles.go, CreateAccessRequestV2
  [
    'self non-pending',
    'PERMISSION_DENIED',
    'cannot create access request for self in non-pending state',
    /start pending/,
    7,
  ],
];

describe("hints and exit codes for Teleport's answers (keyed on the code first, then the text)", () => {
  it.each(TELEPORT)('%s', (_name, code, text, hint, exit) => {
    expect(hintForServerAnswer(code, text)).toMatch(hint);
    const report = reportFor(fromStatus(code as never, text, 'auth:3025'));
    expect(report).toMatchObject({ code: exit, message: text });
    expect(report.hint).toMatch(hint);
  });

  it('our server says the very texts Teleport says', () => {
    expect([
      CLIENT_CREDENTIALS_EXPIRED,
      requestNotFound(ID),
      requestAwaitingApproval(ID),
      requestDenied(ID),
      requestExpired(ID),
      requestCannotBeAssumedUntil(ID, new Date('2026-12-08T10:00:00Z')),
      cannotReviewRequest('alice', ID),
      CREATE_SELF_NON_PENDING,
    ]).toEqual(
      [
        'expired credentials',
        'request not found',
        'awaiting approval',
        'denied',
        'access expired',
        'not yet',
        'cannot review',
        'self non-pending',
      ].map((name) => TELEPORT.find((t) => t[0] === name)![2]),
    );
    expect(requestCannotBeAssumedUntil(ID, new Date('2026-12-08T10:00:00.250Z'))).toBe(
      `access request "${ID}" can not be assumed until 2026-12-08 10:00:00.25 +0000 UTC`,
    );
  });

  it('gives none for another code with the same text, or for unknown texts', () => {
    expect(
      hintForServerAnswer('INTERNAL', 'admin-level API request requires MFA verification'),
    ).toBeUndefined();
    expect(hintForServerAnswer('PERMISSION_DENIED', 'access denied')).toBeUndefined();
    expect(hintForServerAnswer('NOT_FOUND', `access request "${ID}" is awaiting approval`)).toBeUndefined();
    expect(isAdminMfaRefusal('PERMISSION_DENIED', 'admin-level API request requires MFA verification')).toBe(
      true,
    );
    expect(isAdminMfaRefusal('INVALID_ARGUMENT', 'admin-level API request requires MFA verification')).toBe(
      false,
    );
  });
});
