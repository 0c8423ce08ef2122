/**
 * Texts Teleport's Auth Service answers with, where the text is all that tells two
 * PermissionDenied (or InvalidArgument) answers apart. The embedded server says them, and the
 * client recognises them to add a hint. Nothing else may branch on a message.
 */

const PERMISSION_DENIED = 'PERMISSION_DENIED';
const INVALID_ARGUMENT = 'INVALID_ARGUMENT';

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
    text: /requester and reviewer must be different users/,
    hint: 'you cannot review your own request; ask one of its suggested reviewers',
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
