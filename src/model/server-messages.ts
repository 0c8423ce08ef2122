/**
 * Texts Teleport's Auth Service answers with, where the text is all that tells two
 * PermissionDenied (or InvalidArgument) answers apart. The embedded server says them, and the
 * client recognises them to add a hint. Nothing else may branch on a message.
 */

const PERMISSION_DENIED = 'PERMISSION_DENIED';
const INVALID_ARGUMENT = 'INVALID_ARGUMENT';
const NOT_FOUND = 'NOT_FOUND';

/** api/mfa: ErrAdminActionMFARequired. */
export const ADMIN_MFA_REQUIRED = 'admin-level API request requires MFA verification';

/**
 * lib/services/lock.go, LockInForceAccessDenied: `lock targeting <target> is in force`, then
 * `: <message>` when the lock has one. The target is gogoproto's CompactTextString of the
 * LockTarget (api/types/lock.go, LockTarget.String), e.g. `AccessRequest:"0193…"`.
 */
export function lockInForceMessage(target: string, message: string): string {
  return `lock targeting ${target} is in force${message ? `: ${message}` : ''}`;
}

/** Whether `message` is the refusal of a lock that targets access request `id`. */
export function isLockOnRequest(message: string, id: string): boolean {
  return message.startsWith(lockInForceMessage(`AccessRequest:${JSON.stringify(id)}`, ''));
}

/** lib/auth/auth_with_roles.go, CreateAccessRequestV2: only pending requests for oneself. */
export const CREATE_SELF_NON_PENDING = 'cannot create access request for self in non-pending state';

/** lib/auth/auth_with_roles.go, CreateAccessRequestV2: no resolved request while using one. */
export const CREATE_NON_PENDING_WHILE_ASSUMED =
  'cannot create access requests in non-pending state while using an access request';

/** api/types/access_request.go, AccessRequestV3.CheckAndSetDefaults. */
export const REQUEST_USER_NOT_SET = 'access request user name not set';

/**
 * api/client: ErrClientCredentialsHaveExpired, what generateUserCerts answers a renewal whose
 * Expires is unset or already past (lib/auth/auth_with_roles.go).
 */
export const CLIENT_CREDENTIALS_EXPIRED = 'access denied: client credentials have expired, please relogin.';

// lib/auth/auth.go, getValidatedAccessRequest: why a request cannot go into a certificate.
/** NotFound: missing, past its expiry, or another user's. */
export const requestNotFound = (id: string) => `access request ${goQuote(id)} not found`;
/** AccessDenied. */
export const requestDenied = (id: string) => `access request ${goQuote(id)} has been denied`;
/** AccessDenied. */
export const requestPromoted = (id: string) =>
  `access request ${goQuote(id)} has been promoted. Use access list to access resources.`;
/** AccessDenied: pending (or any state but approved, denied and promoted). */
export const requestAwaitingApproval = (id: string) => `access request ${goQuote(id)} is awaiting approval`;
/** BadParameter: the access it grants has ended. */
export const requestExpired = (id: string) => `access request ${goQuote(id)} has expired`;
/** BadParameter: approved with an assume start time still ahead (Go's time.Time String form). */
export const requestCannotBeAssumedUntil = (id: string, start: Date) =>
  `access request ${goQuote(id)} can not be assumed until ${goTimeString(start)}`;

/**
 * lib/services/local/dynamic_access.go, ApplyAccessReview: the reviewer's roles do not cover
 * the request, or it is the reviewer's own (CanReviewRequest says no to both alike).
 */
export const cannotReviewRequest = (user: string, id: string) =>
  `user ${goQuote(user)} cannot review request ${goQuote(id)}`;

/** lib/services/local/dynamic_access.go: the NotFound texts of review, state change and delete. */
export const reviewNotFound = (id: string) =>
  `cannot apply review to access request ${goQuote(id)} (not found)`;
export const setStateNotFound = (id: string) =>
  `cannot set state of access request ${goQuote(id)} (not found)`;
export const deleteNotFound = (id: string) => `cannot delete access request ${goQuote(id)} (not found)`;

/** Go's %q for the strings these texts quote (request IDs, user and role names). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's time.Time.String() of a UTC time: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
function goTimeString(t: Date): string {
  const iso = t.toISOString();
  const ms = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${ms}` : ''} +0000 UTC`;
}

/**
 * lib/auth/auth_with_roles.go, generateUserCerts: a user that does not exist is refused with
 * a bare "access denied", as Teleport hides whether a user exists from those who may not read
 * users.
 */
export const BARE_ACCESS_DENIED = 'access denied';

/** Whether an answer is the bare refusal that hides whether a user exists. */
export function isBareAccessDenied(code: string, details: string): boolean {
  return code === PERMISSION_DENIED && details.trim() === BARE_ACCESS_DENIED;
}

/** lib/services/role.go, CheckAccessToRule: the refusal of `verb` on `resource` by the role rules. */
export function ruleDeniedMessage(resource: string, verb: string): string {
  return `access denied to perform action "${verb}" on "${resource}"`;
}

/** Whether an answer is the rule check's refusal of `verb` on `resource` (PermissionDenied). */
export function isRuleDenied(code: string, details: string, resource: string, verb: string): boolean {
  return code === PERMISSION_DENIED && details.includes(ruleDeniedMessage(resource, verb));
}

interface KnownAnswer {
  /** gRPC status name the text comes with. */
  code: string;
  text: RegExp;
  hint: string;
}

/** Hints for Teleport's common refusals (lib/services/access_request.go, auth_with_roles.go). */
const KNOWN_ANSWERS: readonly KnownAnswer[] = [
  {
    code: PERMISSION_DENIED,
    text: new RegExp(ADMIN_MFA_REQUIRED),
    hint:
      'this cluster wants MFA for admin actions, which `access` cannot answer: use a Machine ID bot ' +
      'identity, an identity from `tctl auth sign` run on the Auth host, or tctl/tsh for this step',
  },
  {
    code: PERMISSION_DENIED,
    text: /has already reviewed this request/,
    hint: 'each reviewer reviews a request once; see its reviews with `access request show ID`',
  },
  {
    code: PERMISSION_DENIED,
    text: /the access request has been already (approved|denied|promoted)/,
    hint: 'the request is already resolved; see it with `access request show ID`',
  },
  {
    code: PERMISSION_DENIED,
    text: /^user ".*" cannot review request ".*"$/,
    hint:
      'nobody reviews their own request, and your roles must allow reviewing every role it asks for ' +
      '(review_requests); ask one of its suggested reviewers',
  },
  {
    code: PERMISSION_DENIED,
    text: /^access denied: client credentials have expired, please relogin\.$/,
    hint: 'your certificate has expired: log in again (tsh login) or get a new identity file',
  },
  {
    code: PERMISSION_DENIED,
    text: /^access denied: identity is not allowed to reissue certificates$/,
    hint:
      'this certificate came from role impersonation, which Teleport never re-issues: ' +
      'use the credentials that asked for it',
  },
  {
    code: NOT_FOUND,
    text: /^access request ".*" not found$/,
    hint:
      'it was deleted, has expired, or is not yours; if your certificate still holds it, ' +
      'remove it with `access request drop ID`',
  },
  {
    code: PERMISSION_DENIED,
    text: /^access request ".*" is awaiting approval$/,
    hint: 'it is still pending: wait for its reviews with `access request wait ID`',
  },
  {
    code: PERMISSION_DENIED,
    text: /^access request ".*" has been (denied|promoted)/,
    hint:
      'it cannot be assumed; if your certificate still holds it, remove it with `access request drop ID`, ' +
      'or create a new request',
  },
  {
    code: INVALID_ARGUMENT,
    text: /^access request ".*" has expired$/,
    hint: 'the access it granted has ended: create a new request',
  },
  {
    code: INVALID_ARGUMENT,
    text: /^access request ".*" can not be assumed until /,
    hint: 'a reviewer set a start time; assume it after that',
  },
  {
    code: PERMISSION_DENIED,
    text: new RegExp(`^${CREATE_SELF_NON_PENDING}$`),
    hint: 'your own requests start pending; a reviewer approves or denies them',
  },
  {
    code: PERMISSION_DENIED,
    text: /^lock targeting .* is in force/,
    hint:
      'an administrator locked this access (see `access lock ls`); the Auth Service refuses every ' +
      'call made with this certificate until the lock expires or is removed, so log in again for a new one',
  },
  {
    code: INVALID_ARGUMENT,
    text: /cannot set request-state .*\(already (approved|denied|promoted)\)/,
    hint: 'the request is already resolved; see it with `access request show ID`',
  },
];

/** The hint for a server answer Teleport users commonly meet, if it is one. */
export function hintForServerAnswer(code: string, details: string): string | undefined {
  return KNOWN_ANSWERS.find((a) => a.code === code && a.text.test(details))?.hint;
}

/** Whether an answer is the admin-MFA refusal (PermissionDenied with Teleport's text). */
export function isAdminMfaRefusal(code: string, details: string): boolean {
  return code === PERMISSION_DENIED && details.includes(ADMIN_MFA_REQUIRED);
}

/**
 * Whether an answer says the request needs a reason (lib/services/access_request.go:
 * `request reason must be specified (...)`, a BadParameter, so InvalidArgument).
 */
export function isReasonRequiredRefusal(code: string, details: string): boolean {
  return code === INVALID_ARGUMENT && details.startsWith('request reason must be specified');
}
