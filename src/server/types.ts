/**
 * Plain data shared by the embedded server's policy (pure rules: seed, rbac, requests,
 * resources) and its runtime (store, service handlers, certificates, watch fan-out).
 * Roles and users follow Teleport's YAML resource format (snake_case keys).
 */
import { status } from '@grpc/grpc-js';
import type {
  AccessCapabilities,
  AccessRequestV3,
  AccessReview,
} from '../gen/teleport/legacy/types/types.js';

export type LabelSelector = Record<string, string | string[]>;

export interface KubeResourceMatcher {
  kind: string;
  api_group?: string;
  namespace?: string;
  name?: string;
  verbs?: string[];
}

export interface ClaimMapping {
  claim: string;
  value: string;
  roles: string[];
}

export interface RequestConditions {
  roles?: string[];
  claims_to_roles?: ClaimMapping[];
  search_as_roles?: string[];
  thresholds?: { name?: string; filter?: string; approve?: number; deny?: number }[];
  suggested_reviewers?: string[];
  max_duration?: string;
  annotations?: Record<string, string[]>;
  kubernetes_resources?: KubeResourceMatcher[];
  /** `required` makes a reason mandatory for requests of this role's requestable roles. */
  reason?: { mode?: 'optional' | 'required'; prompt?: string };
}

export interface RoleConditions {
  logins?: string[];
  node_labels?: LabelSelector;
  db_labels?: LabelSelector;
  app_labels?: LabelSelector;
  kubernetes_labels?: LabelSelector;
  windows_desktop_labels?: LabelSelector;
  group_labels?: LabelSelector;
  kubernetes_resources?: KubeResourceMatcher[];
  request?: RequestConditions;
  review_requests?: { roles?: string[]; claims_to_roles?: ClaimMapping[]; where?: string };
  rules?: { resources: string[]; verbs: string[] }[];
  impersonate?: { users?: string[]; roles?: string[] };
  /** AWS Identity Center account assignments (RoleConditions.AccountAssignments): matchers. */
  account_assignments?: { account?: string; permission_set?: string }[];
}

export interface Role {
  name: string;
  /** metadata.description */
  description?: string;
  options: {
    max_session_ttl?: string;
    request_access?: 'optional' | 'reason' | 'always';
    request_prompt?: string;
  };
  allow: RoleConditions;
  deny: RoleConditions;
}

export interface User {
  name: string;
  roles: string[];
  traits: Record<string, string[]>;
  /** A Machine ID bot user (Teleport marks them with the `teleport.internal/bot` label). */
  bot?: boolean;
}

/**
 * The seed's `cluster_auth_preference` (Teleport's resource kind), reduced to what decides
 * whether admin actions need MFA: the legacy `second_factor` and the newer `second_factors`.
 */
export interface AuthPreference {
  secondFactor?: 'off' | 'otp' | 'webauthn' | 'on' | 'optional';
  secondFactors?: ('otp' | 'webauthn' | 'sso')[];
}

export type ResourceKind =
  | 'node'
  | 'db'
  | 'app'
  | 'kube_cluster'
  | 'windows_desktop'
  | 'kube_resource'
  | 'user_group'
  | 'saml_idp_service_provider'
  | 'aws_ic_account'
  | 'aws_ic_account_assignment';

/** A resource that can be searched and requested. */
export interface Resource {
  kind: ResourceKind;
  /** node: UUID; others: resource name. */
  name: string;
  labels: Record<string, string>;
  hostname?: string;
  addr?: string;
  /** db */
  protocol?: string;
  /** db, app */
  uri?: string;
  /** app */
  publicAddr?: string;
  /** user_group: the application IDs the group belongs to. */
  applications?: string[];
  /** saml_idp_service_provider */
  entityId?: string;
  acsUrl?: string;
  /** windows_desktop */
  domain?: string;
  /** aws_ic_account, aws_ic_account_assignment: the AWS account. */
  awsAccount?: { id: string; arn?: string; name?: string; description?: string; startUrl?: string };
  /** aws_ic_account_assignment: the permission set and the assignment's display name. */
  permissionSet?: { arn: string; name?: string };
  display?: string;
  /** kube_resource: plural kind (`pods`), API group (empty = core), kube cluster, namespace. */
  kubeKind?: string;
  apiGroup?: string;
  kubeCluster?: string;
  namespace?: string;
}

export interface Seed {
  roles: Role[];
  users: User[];
  resources: Resource[];
  authPreference?: AuthPreference;
}

/** The authenticated caller, from its client certificate. */
export interface Caller {
  user: string;
  /** Roles in the certificate, including those added by assumed requests. */
  roles: string[];
  traits: Record<string, string[]>;
  activeRequests: string[];
  allowedResourceIds: string[];
  expires: Date;
  /** Who had this certificate issued for the user (OID 1.3.9999.2.7), when not the user. */
  impersonator?: string;
  /** The certificate may not be used to issue others (OID 1.3.9999.2.9): role impersonation. */
  disallowReissue?: boolean;
}

/** A server-side failure with the gRPC status code Teleport uses. */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(
    /** The gRPC status, by name (`status.NOT_FOUND`, …). */
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/** Teleport's trace.BadParameter: InvalidArgument. */
export const badParameter = (message: string) => new ServerError(status.INVALID_ARGUMENT, message);
/** Teleport's trace.NotFound. */
export const notFound = (message: string) => new ServerError(status.NOT_FOUND, message);
/** Teleport's trace.AccessDenied: PermissionDenied. */
export const accessDenied = (message: string) => new ServerError(status.PERMISSION_DENIED, message);

export type Verb = 'list' | 'read' | 'create' | 'update' | 'delete';

/** A SetAccessRequestState change, as Policy.applyState takes it. */
export interface StateChange {
  state: number;
  reason: string;
  annotations: Record<string, string[]>;
  roles: string[];
  delegator: string;
  assumeStartTime?: Date;
}

/** A resource search, as Policy.searchResources takes it. */
export interface ResourceQuery {
  kind: ResourceKind;
  useSearchAsRoles: boolean;
  keywords: string[];
  labels: Record<string, string>;
  predicate: string;
  kubeCluster?: string;
  namespace?: string;
  kubeKind?: string;
}

/**
 * The rules of the embedded server, pure: no I/O, no clock reads (time is passed in).
 * Every method throws ServerError with Teleport's code and message when a rule refuses.
 */
export interface Policy {
  readonly clusterName: string;
  user(name: string): User | undefined;
  role(name: string): Role | undefined;
  /** Whether any role of the caller allows `verb` on `resource` (default `access_request`; deny rules win). */
  allows(caller: Caller, verb: Verb, resource?: string): boolean;
  /**
   * Whether a deny rule of the caller names `verb` on `resource` (default `access_request`):
   * Teleport's services.IsAccessExplicitlyDenied, which no self-service exception overrides.
   */
  denies(caller: Caller, verb: Verb, resource?: string): boolean;
  /** Teleport's RoleSet.CanImpersonateSomeone: some role has a non-empty `allow.impersonate`. */
  canImpersonateSomeone(caller: Caller): boolean;
  /**
   * Whether an admin action by `caller` needs an MFA response: the cluster enforces admin MFA
   * and the caller is neither a bot, nor issued by a bot or by the Auth host.
   */
  adminActionNeedsMfa(caller: Caller): boolean;
  /**
   * Validates a new request and returns it completed: roles expanded (`*` and resource
   * requests resolved), thresholds, role_threshold_mapping, suggested reviewers,
   * system annotations, state PENDING, created, expires, max_duration, session_ttl.
   * `req.spec.user` is the requester; `actor` is the caller (differs when acting for another user).
   */
  prepareCreate(actor: Caller, req: AccessRequestV3, now: Date): AccessRequestV3;
  /** Whether the caller may see the request (own, reviewable, or list/read rules). */
  canSee(caller: Caller, req: AccessRequestV3): boolean;
  /** Whether the caller could review it (ignores state and earlier reviews). */
  canReview(caller: Caller, req: AccessRequestV3): boolean;
  /**
   * Applies a review by `author` and returns the updated request (review appended,
   * state changed when a threshold is met). Refuses own requests, non-reviewers, a
   * second review, and requests no longer PENDING ("already approved"/"already denied").
   */
  applyReview(author: Caller, req: AccessRequestV3, review: AccessReview, now: Date): AccessRequestV3;
  /** Applies SetAccessRequestState rules (transitions, role narrowing) after the `update` rule was checked. */
  applyState(req: AccessRequestV3, change: StateChange, now: Date): AccessRequestV3;
  capabilities(
    caller: Caller,
    query: { user: string; requestableRoles: boolean; suggestedReviewers: boolean; resourceIds: string[] },
  ): AccessCapabilities;
  /** Resources of `kind` the caller may see (or request, with useSearchAsRoles), after filters. */
  searchResources(caller: Caller, query: ResourceQuery): Resource[];
  /**
   * Certificate issuance: the roles and allowed resource IDs of a certificate for `user`
   * with the given approved requests assumed (or, with `roleRequests`, only those roles), and
   * the latest expiry allowed (max_session_ttl of the roles, the requests' access expiry).
   */
  certificateGrant(
    user: string,
    assumed: AccessRequestV3[],
    now: Date,
    roleRequests?: readonly string[],
  ): { roles: string[]; allowedResourceIds: string[]; traits: Record<string, string[]>; maxExpires: Date };
  /**
   * Role impersonation (UserCertsRequest.RoleRequests): whether the caller's roles allow
   * impersonating exactly these roles (lib/services/role.go, CheckImpersonateRoles).
   */
  canImpersonateRoles(caller: Caller, roles: readonly string[]): boolean;
  /** Whether `caller` may obtain certificates for `user` (impersonate users/roles). */
  canImpersonate(caller: Caller, user: string): boolean;
  /** The labels of each requested resource that exists (Access Monitoring Rule conditions). */
  resourceLabels(ids: readonly { kind: string; name: string }[]): Record<string, string>[];
}
