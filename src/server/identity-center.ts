/**
 * AWS Identity Center resources (`aws_ic_account`, `aws_ic_account_assignment`): who may see
 * and request them (their proto shape is in grpc/shape.ts). Both kinds are in Teleport's
 * RequestableResourceKinds (api/types/constants.go).
 */
import { ruleDeniedMessage, rulesAllow, rulesDeny } from './rbac.js';
import { matchRoleExpr } from './role-matchers.js';
import { accessDenied, type Resource, type ResourceKind, type Role, type RoleConditions } from './types.js';

export const IC_ACCOUNT = 'aws_ic_account';
export const IC_ACCOUNT_ASSIGNMENT = 'aws_ic_account_assignment';
/** The umbrella kind role rules may name for every Identity Center kind (types.KindIdentityCenter). */
const IC_UMBRELLA = 'aws_identity_center';

export function isIdentityCenterKind(kind: string): kind is 'aws_ic_account' | 'aws_ic_account_assignment' {
  return kind === IC_ACCOUNT || kind === IC_ACCOUNT_ASSIGNMENT;
}

/**
 * lib/auth/auth_with_roles.go: ServerWithRoles.checkAction → identityCenterAction, the rule
 * check ListResources makes for these kinds (verbs list and read): the kind's own rules
 * decide, unless they neither allow nor deny it; then the umbrella kind
 * `aws_identity_center` decides, which Teleport's implicit role allows to read and list
 * (lib/services/role.go: DefaultImplicitRules). Throws PermissionDenied with Teleport's text.
 */
export function checkIdentityCenterListRule(roles: readonly Role[], kind: string): void {
  const verbs = ['list', 'read'] as const;
  if (verbs.every((v) => rulesAllow(roles, kind, v))) return;
  const deniedOwn = verbs.find((v) => rulesDeny(roles, kind, v));
  if (deniedOwn) throw accessDenied(ruleDeniedMessage(kind, deniedOwn));
  const deniedUmbrella = verbs.find((v) => rulesDeny(roles, IC_UMBRELLA, v));
  if (deniedUmbrella) throw accessDenied(ruleDeniedMessage(IC_UMBRELLA, deniedUmbrella));
}

/**
 * Whether a condition block's `account_assignments` name an AWS Identity Center resource:
 * lib/services/identitycenter.go: IdentityCenterAccountMatcher.Match (the account ID) and
 * IdentityCenterAccountAssignmentMatcher.Match (the account ID and the permission set ARN),
 * each through matchExpression (`*`, a glob or a `^…$` regexp).
 * lib/services/role.go: resourceRequiresLabelMatching is false for these kinds, so labels
 * play no part: RoleSet.checkAccess denies when a deny block matches and allows when an
 * allow block does.
 */
export function assignmentsMatch(cond: RoleConditions, r: Resource): boolean {
  const accountId = r.awsAccount?.id ?? '';
  return (cond.account_assignments ?? []).some(
    (a) =>
      matchRoleExpr(a.account ?? '', accountId) &&
      (r.kind === 'aws_ic_account' || matchRoleExpr(a.permission_set ?? '', r.permissionSet?.arn ?? '')),
  );
}

/** The seed kinds ListResources serves for these resource types. */
export const IC_LIST_RESOURCE_TYPES: Readonly<Record<string, ResourceKind>> = {
  [IC_ACCOUNT]: IC_ACCOUNT,
  [IC_ACCOUNT_ASSIGNMENT]: IC_ACCOUNT_ASSIGNMENT,
};
