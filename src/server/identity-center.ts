/**
 * AWS Identity Center resources (`aws_ic_account`, `aws_ic_account_assignment`): who may see
 * and request them, and how ListResources sends them. Both kinds are in Teleport's
 * RequestableResourceKinds (api/types/constants.go).
 */
import type { PaginatedResource } from '../gen/teleport/legacy/client/proto/authservice.js';
import type { Metadata } from '../gen/teleport/legacy/types/types.js';
import { ruleDeniedMessage, rulesAllow } from './rbac.js';
import { accessDenied, type Resource, type ResourceKind, type Role } from './types.js';

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
  const denies = (resource: string, verb: string) =>
    roles.some((r) =>
      (r.deny.rules ?? []).some(
        (rule) =>
          (rule.resources.includes('*') || rule.resources.includes(resource)) &&
          (rule.verbs.includes('*') || rule.verbs.includes(verb)),
      ),
    );
  const deniedOwn = verbs.find((v) => denies(kind, v));
  if (deniedOwn) throw accessDenied(ruleDeniedMessage(kind, deniedOwn));
  const deniedUmbrella = verbs.find((v) => denies(IC_UMBRELLA, v));
  if (deniedUmbrella) throw accessDenied(ruleDeniedMessage(IC_UMBRELLA, deniedUmbrella));
}

function metadata(r: Resource, description = ''): Metadata {
  return {
    name: r.name,
    namespace: 'default',
    description,
    labels: { ...r.labels },
    expires: undefined,
    revision: '',
  };
}

/**
 * The PaginatedResource arm of an Identity Center resource, as lib/services/unified_resource.go
 * MakePaginatedResource builds it: an account is sent as an AppServer whose app has sub-kind
 * `aws_ic_account` (makePaginatedIdentityCenterAccount; the account name is the metadata
 * description); an assignment has its own arm (proto.PackICAccountAssignment).
 */
export function toPaginatedIdentityCenter(r: Resource): PaginatedResource['resource'] {
  const account = r.awsAccount ?? { id: '' };
  if (r.kind === IC_ACCOUNT) {
    return {
      $case: 'appServer',
      value: {
        kind: 'app_server',
        subKind: '',
        version: 'v3',
        metadata: metadata(r, account.name ?? ''),
        spec: {
          version: '',
          hostname: '',
          hostId: '',
          app: {
            kind: 'app',
            subKind: IC_ACCOUNT,
            version: 'v3',
            metadata: metadata(r, account.description ?? ''),
            spec: {
              uri: account.startUrl ?? '',
              publicAddr: account.startUrl ?? '',
              aws: { externalId: account.id },
              identityCenter: { accountId: account.id, permissionSets: [] },
            },
          },
        },
      },
    };
  }
  return {
    $case: 'identityCenterAccountAssignment',
    value: {
      kind: IC_ACCOUNT_ASSIGNMENT,
      subKind: '',
      version: 'v1',
      metadata: metadata(r),
      displayName: r.display ?? '',
      account: {
        id: account.id,
        arn: account.arn ?? '',
        accountName: account.name ?? '',
        description: account.description ?? '',
      },
      permissionSet: { arn: r.permissionSet?.arn ?? '', name: r.permissionSet?.name ?? '' },
    },
  };
}

/** The seed kinds ListResources serves for these resource types. */
export const IC_LIST_RESOURCE_TYPES: Readonly<Record<string, ResourceKind>> = {
  [IC_ACCOUNT]: IC_ACCOUNT,
  [IC_ACCOUNT_ASSIGNMENT]: IC_ACCOUNT_ASSIGNMENT,
};
