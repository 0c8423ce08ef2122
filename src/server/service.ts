/**
 * The `proto.AuthService` handlers of the embedded server. Each handler authenticates the
 * caller from its certificate, asks the Policy whether and how, and makes changes through
 * the store (durable before the reply) whose commits feed the watch hub.
 */
import { createPublicKey } from 'node:crypto';
import type {
  handleServerStreamingCall,
  handleUnaryCall,
  ServerErrorResponse,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import type { Empty } from '../gen/google/protobuf/empty.js';
import {
  AccessRequestSort,
  type AuthServiceServer,
  type Certs,
  type DeleteLockRequest,
  type Event,
  type GetLockRequest,
  type GetLocksRequest,
  type GetLocksResponse,
  type ListAccessRequestsRequest,
  type ListResourcesRequest,
  type ListUnifiedResourcesRequest,
  type PaginatedResource,
  type PingResponse,
  type UserCertsRequest,
} from '../gen/teleport/legacy/client/proto/authservice.js';
import {
  type AccessRequestFilter,
  AccessRequestScope,
  type AccessRequestV3,
  type LockV2,
  type Metadata,
  RequestState,
  SignatureAlgorithmSuite,
  type SortBy,
} from '../gen/teleport/legacy/types/types.js';
import { AccessError } from '../model/errors.js';
import { isRequestId } from '../model/request-id.js';
import { automaticReview } from './amr-service.js';
import type { RuleStore } from './amr-store.js';
import {
  authorizeAdminAction,
  authorizeLocalUser,
  callerOf,
  isCurrentUserAction,
  requireRule,
} from './authz.js';
import {
  type ClusterCerts,
  issueUserSshCert,
  issueUserTlsCert,
  sshCaAuthorizedKeys,
  tlsCaPems,
  type UserCertSpec,
} from './certs.js';
import { type EventSink, matchesFilter, planWatch, type WatchHub } from './events.js';
import { IC_LIST_RESOURCE_TYPES, toPaginatedIdentityCenter } from './identity-center.js';
import {
  checkCallerNotLocked,
  isEmptyTarget,
  type LockStore,
  lockInForceError,
  lockTargetsOf,
} from './locks.js';
import { expandOrSkip } from './rbac.js';
import { requestableRolesPage } from './requestable-roles.js';
import { fromLabelValues, isSet, stateName, toLabelValues, uuidv7 } from './requests.js';
import { resourceIdString } from './resources.js';
import { expiryOf, type RequestStore, type SortField } from './store.js';
import { type Caller, type Policy, type Resource, type ResourceKind, ServerError } from './types.js';

/** The Teleport version this server emulates (clients gate features on it). */
export const SERVER_VERSION = '18.0.0';

/** Page size when a list call does not say, and the most one page may hold. */
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

export interface ServiceDeps {
  policy: Policy;
  store: RequestStore;
  locks: LockStore;
  /** Access Monitoring Rules (automatic reviews on creation). */
  rules?: RuleStore;
  hub: WatchHub;
  certs: ClusterCerts;
  now: () => Date;
  log: (line: string) => void;
}

/** A gRPC status for a thrown error: ServerError keeps its code; anything else is UNKNOWN (2). */
export function toServiceError(err: unknown, log?: (line: string) => void): ServerErrorResponse {
  let code: number;
  let message: string;
  if (err instanceof ServerError) {
    code = err.code;
    message = err.message;
  } else if (err instanceof AccessError) {
    code = err.kind === 'usage' ? 3 : err.kind === 'permission' ? 7 : err.kind === 'not-found' ? 5 : 2;
    message = err.message;
  } else {
    code = 2;
    message = err instanceof Error ? err.message : String(err);
    log?.(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : message}`);
  }
  return Object.assign(new Error(message), { code, details: message });
}

/**
 * The caller of `call`: a valid certificate of a user that still exists, that no lock in
 * force targets (lib/authz/permissions.go, authorizer.Authorize checks
 * `Context.LockTargets()` with the lock watcher on every call).
 */
function authenticate(
  deps: Pick<ServiceDeps, 'now' | 'policy' | 'locks'>,
  call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>,
): Caller {
  const now = deps.now();
  const caller = authorizeLocalUser(deps.policy, callerOf(call, now));
  checkCallerNotLocked(deps.locks, caller, now);
  return caller;
}

/** Wraps a unary handler: authenticates the caller and turns errors into statuses. */
export function unary<Req, Res>(
  deps: Pick<ServiceDeps, 'now' | 'log' | 'policy' | 'locks'>,
  fn: (req: Req, caller: Caller, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request, authenticate(deps, call), call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err, deps.log)),
      );
  };
}

/**
 * Writes messages honouring backpressure, so a long listing to a slow reader does not
 * buffer without bound.
 */
async function writeWithBackpressure<T>(call: ServerWritableStream<unknown, T>, message: T): Promise<void> {
  if (call.write(message)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
  });
}

function serverStream<Req, Res>(
  deps: Pick<ServiceDeps, 'now' | 'log' | 'policy' | 'locks'>,
  fn: (req: Req, caller: Caller, call: ServerWritableStream<Req, Res>) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    Promise.resolve()
      .then(() => fn(call.request, authenticate(deps, call), call))
      .then(
        () => call.end(),
        (err: unknown) => call.emit('error', toServiceError(err, deps.log)),
      );
  };
}

/** Go writes an unset time as year 1; both that and undefined mean "not set". */
export function setTime(d: Date | undefined): Date | undefined {
  return isSet(d) ? d : undefined;
}

export function metadata(name: string, extra: Partial<Metadata> = {}): Metadata {
  return {
    name,
    namespace: 'default',
    description: '',
    labels: {},
    expires: undefined,
    revision: '',
    ...extra,
  };
}

/** Case-insensitive keyword match over the fields Teleport searches (every keyword must hit). */
function matchesKeywords(req: AccessRequestV3, keywords: string[]): boolean {
  if (keywords.length === 0) return true;
  const spec = req.spec;
  const hay = [
    req.metadata?.name ?? '',
    spec?.user ?? '',
    ...(spec?.roles ?? []),
    spec?.requestReason ?? '',
    spec?.resolveReason ?? '',
    ...(spec?.suggestedReviewers ?? []),
    ...(spec?.requestedResourceIds ?? []).map(resourceIdString),
    stateName(spec?.state ?? RequestState.NONE),
  ].map((s) => s.toLowerCase());
  return keywords.every((kw) => {
    const k = kw.toLowerCase();
    return hay.some((h) => h.includes(k));
  });
}

/** Whether `caller` has reviewed `req`. */
function reviewedBy(req: AccessRequestV3, user: string): boolean {
  return (req.spec?.reviews ?? []).some((r) => r.author === user);
}

/** The listing predicate of GetAccessRequestsV2/ListAccessRequests: filter, scope, visibility. */
export function requestMatcher(
  policy: Policy,
  caller: Caller,
  filter: AccessRequestFilter | undefined,
): (req: AccessRequestV3) => boolean {
  const f = {
    id: filter?.id || undefined,
    user: filter?.user || undefined,
    state: filter?.state ? filter.state : undefined,
  };
  const keywords = (filter?.searchKeywords ?? []).filter((k) => k !== '');
  const scope = filter?.scope ?? AccessRequestScope.DEFAULT;
  return (req) => {
    if (!matchesFilter(req, f)) return false;
    if (!matchesKeywords(req, keywords)) return false;
    const own = req.spec?.user === caller.user;
    switch (scope) {
      case AccessRequestScope.MY_REQUESTS:
        if (!own) return false;
        break;
      // api/types/access_request.go, AccessRequestFilter.Match; which requests a caller may
      // see at all is decided below, as ListAccessRequests does.
      case AccessRequestScope.NEEDS_REVIEW:
        if (own || req.spec?.state !== RequestState.PENDING || reviewedBy(req, caller.user)) return false;
        break;
      case AccessRequestScope.REVIEWED:
        if (own || !reviewedBy(req, caller.user)) return false;
        break;
      default:
        break;
    }
    return policy.canSee(caller, req);
  };
}

function sortField(sort: AccessRequestSort): SortField {
  switch (sort) {
    case AccessRequestSort.STATE:
      return 'state';
    case AccessRequestSort.USER:
      return 'user';
    default:
      return 'created';
  }
}

function pageLimit(limit: number): number {
  if (limit <= 0) return DEFAULT_PAGE;
  return Math.min(limit, MAX_PAGE);
}

/** lib/services/local/access.go, GetLock/DeleteLock: NotFound naming the lock. */
function lockNotFound(name: string): ServerError {
  return new ServerError(5, `lock "${name}" is not found`);
}

function notFound(id: string): ServerError {
  return new ServerError(5, `access_request "${id}" not found`);
}

/**
 * The stored request unless it is missing or past its expiry but not yet swept: Teleport's
 * backend never returns an expired item, and approving one would move its expiry out and
 * bring it back to life.
 */
function liveOrNotFound(current: AccessRequestV3 | undefined, id: string, now: Date): AccessRequestV3 {
  if (!current || expiryOf(current) <= now.getTime()) throw notFound(id);
  return current;
}

/** The SSH logins of a set of roles, with trait templates expanded and denied logins removed. */
export function loginsFor(
  policy: Policy,
  roles: readonly string[],
  traits: Record<string, string[]>,
): string[] {
  const allow = new Set<string>();
  const deny = new Set<string>();
  for (const name of roles) {
    const role = policy.role(name);
    if (!role) continue;
    for (const l of role.allow.logins ?? []) for (const v of expandOrSkip(l, traits)) allow.add(v);
    for (const l of role.deny.logins ?? []) for (const v of expandOrSkip(l, traits)) deny.add(v);
  }
  return [...allow].filter((l) => !deny.has(l)).sort();
}

function publicKeyPem(bytes: Buffer): string {
  const pem = bytes.toString('utf8');
  try {
    return createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    throw new ServerError(3, 'TLSPublicKey is not a PEM public key (PKCS#1 or PKIX)');
  }
}

// --- resources ---------------------------------------------------------------------------

/** ListResources resource types and the seed kinds they show. */
const LIST_RESOURCE_TYPES: Record<string, ResourceKind> = {
  node: 'node',
  db_server: 'db',
  db: 'db',
  app_server: 'app',
  app: 'app',
  kube_cluster: 'kube_cluster',
  kube_server: 'kube_cluster',
  windows_desktop: 'windows_desktop',
  // lib/auth/auth_with_roles.go: ServerWithRoles.listResourcesWithSort lists both.
  user_group: 'user_group',
  saml_idp_service_provider: 'saml_idp_service_provider',
  ...IC_LIST_RESOURCE_TYPES,
};

/** ListUnifiedResources kinds (Teleport's unified kinds, plus the server kinds as aliases). */
const UNIFIED_KINDS: Record<string, ResourceKind> = {
  node: 'node',
  db: 'db',
  db_server: 'db',
  app: 'app',
  app_server: 'app',
  kube_cluster: 'kube_cluster',
  kube_server: 'kube_cluster',
  windows_desktop: 'windows_desktop',
};
const DEFAULT_UNIFIED: ResourceKind[] = ['node', 'app', 'db', 'kube_cluster', 'windows_desktop'];

/** The PaginatedResource arm of a seed resource, shaped as Teleport's service heartbeats. */
export function toPaginated(r: Resource, listedAs: string): PaginatedResource['resource'] {
  const hostId = `${r.kind}-${r.name}`;
  const labels = { ...r.labels };
  switch (r.kind) {
    case 'node':
      return {
        $case: 'node',
        value: {
          kind: 'node',
          subKind: 'teleport',
          version: 'v2',
          metadata: metadata(r.name, { labels }),
          spec: {
            addr: r.addr ?? '',
            hostname: r.hostname ?? r.name,
            useTunnel: false,
            version: SERVER_VERSION,
          },
        },
      };
    case 'db':
      return {
        $case: 'databaseServer',
        value: {
          kind: 'db_server',
          subKind: '',
          version: 'v3',
          metadata: metadata(r.name, { labels }),
          spec: {
            version: SERVER_VERSION,
            hostname: r.hostname ?? r.name,
            hostId,
            database: {
              kind: 'db',
              subKind: '',
              version: 'v3',
              metadata: metadata(r.name, { labels }),
              spec: { protocol: r.protocol ?? '', uri: r.uri ?? '' },
            },
          },
        },
      };
    case 'app':
      return {
        $case: 'appServer',
        value: {
          kind: 'app_server',
          subKind: '',
          version: 'v3',
          metadata: metadata(r.name, { labels }),
          spec: {
            version: SERVER_VERSION,
            hostname: r.hostname ?? r.name,
            hostId,
            app: {
              kind: 'app',
              subKind: '',
              version: 'v3',
              metadata: metadata(r.name, { labels }),
              spec: {
                uri: r.uri ?? '',
                publicAddr: r.publicAddr ?? '',
                aws: undefined,
                identityCenter: undefined,
              },
            },
          },
        },
      };
    case 'kube_cluster': {
      const cluster = {
        kind: 'kube_cluster',
        subKind: '',
        version: 'v3',
        metadata: metadata(r.name, { labels }),
        spec: {},
      };
      if (listedAs === 'kube_server') {
        return {
          $case: 'kubernetesServer',
          value: {
            kind: 'kube_server',
            subKind: '',
            version: 'v3',
            metadata: metadata(r.name, { labels }),
            spec: { version: SERVER_VERSION, hostname: r.hostname ?? r.name, hostId, cluster },
          },
        };
      }
      return { $case: 'kubeCluster', value: cluster };
    }
    case 'windows_desktop':
      return {
        $case: 'windowsDesktop',
        value: {
          header: {
            kind: 'windows_desktop',
            subKind: '',
            version: 'v3',
            metadata: metadata(r.name, { labels }),
          },
          spec: { addr: r.addr ?? '', domain: r.domain ?? '', hostId, nonAd: !r.domain },
        },
      };
    case 'user_group':
      return {
        $case: 'userGroup',
        value: {
          header: { kind: 'user_group', subKind: '', version: 'v1', metadata: metadata(r.name, { labels }) },
          spec: { applications: [...(r.applications ?? [])] },
        },
      };
    case 'saml_idp_service_provider':
      return {
        $case: 'samlIdpServiceProvider',
        value: {
          header: {
            kind: 'saml_idp_service_provider',
            subKind: '',
            version: 'v1',
            metadata: metadata(r.name, { labels }),
          },
          spec: { entityDescriptor: '', entityId: r.entityId ?? '', acsUrl: r.acsUrl ?? '' },
        },
      };
    case 'aws_ic_account':
    case 'aws_ic_account_assignment':
      return toPaginatedIdentityCenter(r);
    default:
      throw new ServerError(3, `resource kind "${r.kind}" cannot be listed with ListResources`);
  }
}

type SortValue = string;

function resourceSortValue(r: Resource, sortBy: SortBy | undefined): SortValue {
  switch (sortBy?.field) {
    case 'hostname':
      return (r.hostname ?? r.name).toLowerCase();
    case 'kind':
      return r.kind;
    default:
      return r.name.toLowerCase();
  }
}

/**
 * One page of a sorted resource list. Keys are opaque strings naming the first item of
 * the next page.
 */
export function paginate<T>(
  items: T[],
  keyOf: (item: T) => string[],
  opts: { descending: boolean; limit: number; startKey: string },
): { page: T[]; nextKey: string } {
  const keyed = items.map((item) => ({ item, key: keyOf(item) }));
  const cmp = (a: string[], b: string[]) => {
    for (let i = 0; i < a.length; i++) {
      if (a[i] < b[i]) return -1;
      if (a[i] > b[i]) return 1;
    }
    return 0;
  };
  keyed.sort((a, b) => (opts.descending ? cmp(b.key, a.key) : cmp(a.key, b.key)));
  let start = 0;
  if (opts.startKey) {
    let key: unknown;
    try {
      key = JSON.parse(Buffer.from(opts.startKey, 'base64url').toString('utf8'));
    } catch {
      key = undefined;
    }
    if (!Array.isArray(key) || !key.every((k) => typeof k === 'string')) {
      throw new ServerError(3, `invalid start key "${opts.startKey}"`);
    }
    start = keyed.findIndex((k) => (opts.descending ? cmp(k.key, key) <= 0 : cmp(k.key, key) >= 0));
    if (start < 0) start = keyed.length;
  }
  const limit = pageLimit(opts.limit);
  const page = keyed.slice(start, start + limit);
  const next = keyed[start + limit];
  return {
    page: page.map((k) => k.item),
    nextKey: next ? Buffer.from(JSON.stringify(next.key), 'utf8').toString('base64url') : '',
  };
}

// --- the service -------------------------------------------------------------------------

/** Builds the AuthService handlers. */
export function createAuthService(deps: ServiceDeps): AuthServiceServer {
  const { policy, store, locks, hub, certs } = deps;
  const clusterName = certs.clusterName;

  const ping: AuthServiceServer['ping'] = (call, callback) => {
    // Ping needs no user, but Teleport's GRPCServer.Ping authenticates like every call, so a
    // locked certificate is refused here too.
    try {
      const now = deps.now();
      checkCallerNotLocked(deps.locks, callerOf(call, now), now);
    } catch (err) {
      if (err instanceof ServerError && err.code === 7) {
        callback(toServiceError(err));
        return;
      }
    }
    const response: PingResponse = {
      clusterName,
      serverVersion: SERVER_VERSION,
      serverFeatures: {
        advancedAccessWorkflows: true,
        accessRequests: { monthlyRequestLimit: 0 },
        identityGovernance: true,
      },
      proxyPublicAddr: '',
      isBoring: false,
      remoteAddr: call.getPeer(),
      loadAllCas: false,
      signatureAlgorithmSuite: SignatureAlgorithmSuite.SIGNATURE_ALGORITHM_SUITE_BALANCED_V1,
      licenseExpiry: undefined,
    };
    callback(null, response);
  };

  const getAccessRequestsV2 = serverStream<AccessRequestFilter, AccessRequestV3>(
    deps,
    async (filter, caller, call) => {
      const match = requestMatcher(policy, caller, filter);
      let startKey = '';
      do {
        const page = store.page({ sort: 'created', descending: false, startKey, limit: 500, match });
        for (const req of page.items) {
          if (call.cancelled || call.destroyed) return;
          await writeWithBackpressure(call, req);
        }
        startKey = page.nextKey;
      } while (startKey);
    },
  );

  const listAccessRequests = unary(deps, (req: ListAccessRequestsRequest, caller) => {
    const page = store.page({
      sort: sortField(req.sort),
      descending: req.descending,
      startKey: req.startKey,
      limit: pageLimit(req.limit),
      match: requestMatcher(policy, caller, req.filter),
    });
    return { accessRequests: page.items, nextKey: page.nextKey };
  });

  const createAccessRequestV2 = unary(deps, async (req: AccessRequestV3, caller) => {
    const now = deps.now();
    if (!req.spec) throw new ServerError(3, 'access request is missing its spec');
    const user = req.spec.user || caller.user;
    // lib/auth/auth_with_roles.go, CreateAccessRequestV2: a pending request for oneself needs
    // no rule; for anyone else `create` is required, and it is an admin action (MFA).
    if (user !== caller.user) {
      requireRule(policy, caller, 'create');
      authorizeAdminAction(policy, caller);
    }
    const wanted = req.metadata?.name ?? '';
    const id = isRequestId(wanted) ? wanted.toLowerCase() : uuidv7(now);
    if (store.get(id)) throw new ServerError(6, `access request "${id}" already exists`);
    const input: AccessRequestV3 = {
      ...req,
      kind: 'access_request',
      version: 'v3',
      // metadata.expires is how clients ask for a request TTL (how long it may stay pending).
      metadata: metadata(id, { labels: req.metadata?.labels ?? {}, expires: setTime(req.metadata?.expires) }),
      spec: { ...req.spec, user },
    };
    const prepared = policy.prepareCreate(caller, input, now);
    prepared.kind = 'access_request';
    prepared.version = 'v3';
    prepared.metadata = { ...metadata(id), ...prepared.metadata, name: id, namespace: 'default' };
    if (req.spec.dryRun) {
      prepared.spec = { ...prepared.spec!, dryRun: true };
      return prepared;
    }
    prepared.spec = { ...prepared.spec!, dryRun: false };
    const stored = await store.create(prepared);
    deps.log(`access request ${id} created by ${caller.user} for ${user} (${prepared.spec.roles.join(',')})`);
    if (deps.rules) await automaticReview({ ...deps, rules: deps.rules }, stored);
    return stored;
  });

  const deleteAccessRequest = unary(deps, async (req: { id: string }, caller): Promise<Empty> => {
    // lib/auth/auth_with_roles.go, DeleteAccessRequest: the `delete` rule, then admin MFA.
    requireRule(policy, caller, 'delete');
    authorizeAdminAction(policy, caller);
    await store.mutate(req.id, (current) => {
      if (!current) throw notFound(req.id);
      return { op: 'delete' };
    });
    return {};
  });

  const setAccessRequestState: AuthServiceServer['setAccessRequestState'] = unary(
    deps,
    async (req, caller) => {
      // lib/auth/auth_with_roles.go, SetAccessRequestState, in Teleport's order.
      requireRule(policy, caller, 'update');
      if (caller.activeRequests.length > 0) {
        throw new ServerError(
          7,
          'cannot directly update the state of an access request while using an access request',
        );
      }
      authorizeAdminAction(policy, caller);
      if (req.state === RequestState.PROMOTED) {
        throw new ServerError(3, 'state promoted can be only set when promoting to access list');
      }
      if (!req.id) throw new ServerError(3, 'missing access request ID');
      const now = deps.now();
      await store.mutate(req.id, (current) => {
        if (!current || expiryOf(current) <= now.getTime()) {
          throw new ServerError(5, `cannot set state of access request "${req.id}" (not found)`);
        }
        if (current.spec?.user === caller.user) {
          throw new ServerError(
            7,
            'directly updating the state of your own access requests is not permitted',
          );
        }
        const value = policy.applyState(
          current,
          {
            state: req.state,
            reason: req.reason,
            annotations: fromLabelValues(req.annotations),
            roles: req.roles,
            delegator: req.delegator,
            assumeStartTime: setTime(req.assumeStartTime),
          },
          now,
        );
        return { op: 'put', value };
      });
      return {};
    },
  );

  const submitAccessReview: AuthServiceServer['submitAccessReview'] = unary(deps, async (sub, caller) => {
    const review = sub.review;
    if (!review) throw new ServerError(3, 'missing review');
    if (!sub.requestId) throw new ServerError(3, 'missing access request ID');
    // lib/auth/auth_with_roles.go, SubmitAccessReview and AuthorizeAccessReviewRequest: no
    // promotion here; the author is the caller (only Teleport's builtin Admin role, which no
    // certificate of this server carries, may name another); then admin MFA.
    if (review.proposedState === RequestState.PROMOTED) {
      throw new ServerError(3, 'state promoted can be only set when promoting to access list');
    }
    if (review.author && review.author !== caller.user) {
      throw new ServerError(7, `user "${caller.user}" cannot submit reviews on behalf of "${review.author}"`);
    }
    // RoleSet.MaybeCanReviewRequests: without any allow.review_requests, certainly not.
    const mayReview = caller.roles.some((name) => {
      const cond = policy.role(name)?.allow.review_requests;
      return cond !== undefined && Object.values(cond).some((v) => (Array.isArray(v) ? v.length > 0 : !!v));
    });
    if (!mayReview) throw new ServerError(7, `user "${caller.user}" cannot submit reviews`);
    const author = caller;
    authorizeAdminAction(policy, caller);
    const now = deps.now();
    const commit = await store.mutate(sub.requestId, (current) => {
      const value = policy.applyReview(
        author,
        liveOrNotFound(current, sub.requestId, now),
        { ...review, author: author.user, created: now, assumeStartTime: setTime(review.assumeStartTime) },
        now,
      );
      return { op: 'put', value };
    });
    return commit!.after!;
  });

  const getAccessCapabilities: AuthServiceServer['getAccessCapabilities'] = unary(deps, (req, caller) =>
    policy.capabilities(caller, {
      user: req.user || caller.user,
      requestableRoles: req.requestableRoles,
      suggestedReviewers: req.suggestedReviewers,
      resourceIds: req.resourceIds.map(resourceIdString),
    }),
  );

  const listRequestableRoles: AuthServiceServer['listRequestableRoles'] = unary(deps, (req, caller) =>
    requestableRolesPage(policy, caller, req),
  );

  const watchEvents: AuthServiceServer['watchEvents'] = (call) => {
    let plan: ReturnType<typeof planWatch>;
    try {
      const caller = authenticate(deps, call);
      // lib/auth/auth_with_roles.go, hasWatchPermissionForKind: users may watch their own
      // requests (a `user` filter naming themselves); anything wider needs `read`.
      plan = planWatch(
        call.request,
        (filter) => {
          if (filter.user !== undefined && isCurrentUserAction(policy, caller, filter.user)) return;
          requireRule(policy, caller, 'read');
        },
        (kind) => requireRule(policy, caller, 'read', kind),
      );
    } catch (err) {
      call.emit('error', toServiceError(err, deps.log));
      return;
    }
    let closed = false;
    const sink: EventSink = {
      write: (event: Event) => {
        if (!closed) call.write(event);
      },
      backlog: () => call.writableLength,
      close: (err) => {
        if (closed) return;
        closed = true;
        if (err) call.emit('error', toServiceError(err));
        else call.end();
      },
    };
    const sub = hub.subscribe(plan, sink);
    const gone = () => {
      closed = true;
      sub.cancel();
    };
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', gone);
  };

  const resourceQuery = (
    caller: Caller,
    kind: ResourceKind,
    req: {
      useSearchAsRoles: boolean;
      searchKeywords: string[];
      labels: Record<string, string>;
      predicateExpression: string;
    },
  ) =>
    policy.searchResources(caller, {
      kind,
      useSearchAsRoles: req.useSearchAsRoles,
      keywords: req.searchKeywords.filter((k) => k !== ''),
      labels: req.labels,
      predicate: req.predicateExpression,
    });

  const listResources = unary(deps, (req: ListResourcesRequest, caller) => {
    const kind = LIST_RESOURCE_TYPES[req.resourceType];
    if (!kind)
      throw new ServerError(3, `resource type "${req.resourceType}" is not supported by ListResources`);
    let found = resourceQuery(caller, kind, req);
    const desktopName = req.windowsDesktopFilter?.name;
    if (kind === 'windows_desktop' && desktopName) found = found.filter((r) => r.name === desktopName);
    const { page, nextKey } = paginate(found, (r) => [resourceSortValue(r, req.sortBy), r.name], {
      descending: req.sortBy?.isDesc ?? false,
      limit: req.limit,
      startKey: req.startKey,
    });
    return {
      resources: page.map((r) => ({
        resource: toPaginated(r, req.resourceType),
        logins: req.includeLogins && r.kind === 'node' ? loginsFor(policy, caller.roles, caller.traits) : [],
        requiresRequest: false,
      })),
      nextKey,
      totalCount: req.needTotalCount ? found.length : 0,
    };
  });

  const listUnifiedResources = unary(deps, (req: ListUnifiedResourcesRequest, caller) => {
    const kinds: ResourceKind[] = [];
    for (const k of req.kinds.length > 0 ? req.kinds : DEFAULT_UNIFIED) {
      const kind = UNIFIED_KINDS[k];
      if (!kind) throw new ServerError(3, `resource kind "${k}" is not supported by ListUnifiedResources`);
      if (!kinds.includes(kind)) kinds.push(kind);
    }
    if (req.pinnedOnly) return { resources: [], nextKey: '' };
    const found: { r: Resource; requiresRequest: boolean }[] = [];
    for (const kind of kinds) {
      if (req.includeRequestable) {
        const direct = new Set(
          resourceQuery(caller, kind, { ...req, useSearchAsRoles: false }).map((r) => r.name),
        );
        for (const r of resourceQuery(caller, kind, { ...req, useSearchAsRoles: true })) {
          found.push({ r, requiresRequest: !direct.has(r.name) });
        }
      } else {
        for (const r of resourceQuery(caller, kind, req)) found.push({ r, requiresRequest: false });
      }
    }
    const { page, nextKey } = paginate(
      found,
      (f) => [resourceSortValue(f.r, req.sortBy), f.r.kind, f.r.name],
      {
        descending: req.sortBy?.isDesc ?? false,
        limit: req.limit,
        startKey: req.startKey,
      },
    );
    return {
      resources: page.map((f) => ({
        resource: toPaginated(f.r, f.r.kind),
        logins:
          req.includeLogins && f.r.kind === 'node' ? loginsFor(policy, caller.roles, caller.traits) : [],
        requiresRequest: f.requiresRequest,
      })),
      nextKey,
    };
  });

  const generateUserCerts = unary(deps, async (req: UserCertsRequest, caller): Promise<Certs> => {
    const now = deps.now();
    // lib/auth/auth_with_roles.go, generateUserCerts, in Teleport's order. The official client
    // always names the user; an empty name is another user there, and so it is here.
    const target = req.username;
    const self = target === caller.user;
    if (!self && !policy.canImpersonateSomeone(caller)) {
      throw new ServerError(7, 'access denied: impersonation is not allowed');
    }
    // Recursive impersonation: an impersonated identity may renew itself (drop requests),
    // nothing more.
    if (caller.impersonator) {
      if (req.accessRequests.length > 0) {
        throw new ServerError(7, 'access denied: impersonated user can not request new roles');
      }
      if (!self) throw new ServerError(7, 'access denied: impersonated user can not impersonate anyone else');
    }
    const targetUser = policy.user(target);
    if (!targetUser) throw new ServerError(7, 'access denied');
    if (!self) {
      authorizeAdminAction(policy, caller);
      if (req.accessRequests.length > 0) {
        throw new ServerError(
          7,
          `user "${caller.user}" requested cert for "${target}" and included access requests, this is not supported.`,
        );
      }
      if (!policy.canImpersonate(caller, target)) {
        throw new ServerError(
          7,
          `user "${caller.user}" has requested to generate certs for [${targetUser.roles.map((r) => `"${r}"`).join(' ')}].`,
        );
      }
    }

    const dropAll = req.dropAccessRequests.includes('*');
    const drop = new Set(req.dropAccessRequests);
    const assumed: AccessRequestV3[] = [];
    const seen = new Set<string>();
    const usable = (id: string): AccessRequestV3 => {
      const r = store.get(id);
      if (!r) throw new ServerError(5, `access request "${id}" not found`);
      if (r.spec?.user !== target)
        throw new ServerError(7, `access request "${id}" is not owned by user "${target}"`);
      if (r.spec.state !== RequestState.APPROVED)
        throw new ServerError(7, `access request "${id}" is not approved`);
      const accessEnd = setTime(r.spec.expires)?.getTime() ?? Number.POSITIVE_INFINITY;
      if (accessEnd <= now.getTime() || expiryOf(r) <= now.getTime()) {
        throw new ServerError(7, `access request "${id}" has expired`);
      }
      const start = setTime(r.spec.assumeStartTime);
      if (start && start.getTime() > now.getTime()) {
        throw new ServerError(7, `access request "${id}" can not be assumed until ${start.toISOString()}`);
      }
      return r;
    };
    // Requests already in the certificate stay unless dropped; ones no longer usable
    // (expired, deleted, denied after approval) fall away silently.
    if (self) {
      for (const id of caller.activeRequests) {
        if (dropAll || drop.has(id) || seen.has(id)) continue;
        try {
          assumed.push(usable(id));
          seen.add(id);
        } catch (err) {
          if (!(err instanceof ServerError)) throw err;
        }
      }
    }
    for (const id of req.accessRequests) {
      if (seen.has(id)) continue;
      assumed.push(usable(id));
      seen.add(id);
    }

    const grant = policy.certificateGrant(target, assumed, now);
    // lib/auth/auth.go, generateUserCert: no certificate is issued whose user, roles or
    // active requests a lock in force targets.
    const locked = locks.inForce(
      now,
      lockTargetsOf({
        user: target,
        roles: grant.roles,
        activeRequests: assumed.map((r) => r.metadata!.name),
      }),
    );
    if (locked) throw lockInForceError(locked);
    let notAfter = Math.min(grant.maxExpires.getTime(), caller.expires.getTime());
    const wanted = setTime(req.expires);
    if (wanted && wanted.getTime() > now.getTime()) notAfter = Math.min(notAfter, wanted.getTime());
    if (notAfter <= now.getTime())
      throw new ServerError(3, 'the requested certificate would already be expired');

    const sshKey = req.sshPublicKey.length > 0 ? req.sshPublicKey : req.publicKey;
    if (req.tlsPublicKey.length === 0 && sshKey.length === 0) {
      throw new ServerError(3, 'missing public key: set TLSPublicKey and/or SSHPublicKey');
    }
    const spec: UserCertSpec = {
      identity: {
        username: target,
        roles: grant.roles,
        traits: grant.traits,
        activeRequests: assumed.map((r) => r.metadata!.name),
        allowedResourceIds: grant.allowedResourceIds,
        routeToCluster: req.routeToCluster || clusterName,
        // A renewal keeps the impersonator, so dropping a request cannot launder it away.
        impersonator: self ? caller.impersonator : caller.user,
      },
      principals: loginsFor(policy, grant.roles, grant.traits),
      notAfter: new Date(notAfter),
      now,
    };
    const tls =
      req.tlsPublicKey.length > 0 ? await issueUserTlsCert(certs, spec, publicKeyPem(req.tlsPublicKey)) : '';
    let ssh = '';
    if (sshKey.length > 0) {
      try {
        ssh = issueUserSshCert(certs, spec, sshKey.toString('utf8'));
      } catch (err) {
        throw new ServerError(
          3,
          `SSHPublicKey is not an authorized_keys public key: ${(err as Error).message}`,
        );
      }
    }
    deps.log(
      `issued certificates for ${target}${self ? '' : ` (impersonated by ${caller.user})`} until ${spec.notAfter.toISOString()}` +
        (assumed.length > 0 ? ` with requests ${spec.identity.activeRequests.join(',')}` : ''),
    );
    return {
      ssh: Buffer.from(ssh ? `${ssh}\n` : '', 'utf8'),
      tls: Buffer.from(tls, 'utf8'),
      tlsCaCerts: tlsCaPems(certs).map((p) => Buffer.from(p, 'utf8')),
      sshCaCerts: sshCaAuthorizedKeys(certs).map((l) => Buffer.from(`${l}\n`, 'utf8')),
    };
  });

  const getCurrentUser: AuthServiceServer['getCurrentUser'] = unary(deps, (_req, caller) => {
    const user = policy.user(caller.user);
    if (!user) throw new ServerError(5, `user "${caller.user}" not found`);
    return {
      kind: 'user',
      subKind: '',
      version: 'v2',
      metadata: metadata(user.name),
      spec: { roles: [...user.roles], traits: toLabelValues(user.traits), expires: undefined },
    };
  });

  const getCurrentUserRoles: AuthServiceServer['getCurrentUserRoles'] = serverStream(
    deps,
    async (_req, caller, call) => {
      for (const name of caller.roles) {
        if (!policy.role(name)) continue;
        await writeWithBackpressure(call, {
          kind: 'role',
          subKind: '',
          version: 'v7',
          metadata: metadata(name),
        });
      }
    },
  );

  const getDomainName: AuthServiceServer['getDomainName'] = unary(deps, () => ({ domainName: clusterName }));

  const getClusterCaCert: AuthServiceServer['getClusterCaCert'] = unary(deps, () => ({
    tlsCa: Buffer.from(certs.hostCa.certPem, 'utf8'),
  }));

  // lib/auth/auth_with_roles.go, ServerWithRoles.GetLock/GetLocks/UpsertLock/DeleteLock:
  // `action` on kind `lock` with every verb listed (read; list+read; create+update; delete).
  const getLock = unary(deps, (req: GetLockRequest, caller): LockV2 => {
    requireRule(policy, caller, 'read', 'lock');
    const lock = locks.get(req.name, deps.now());
    if (!lock) throw lockNotFound(req.name);
    return lock;
  });

  const getLocks = unary(deps, (req: GetLocksRequest, caller): GetLocksResponse => {
    requireRule(policy, caller, 'list', 'lock');
    requireRule(policy, caller, 'read', 'lock');
    return { locks: locks.find(deps.now(), req.inForceOnly, req.targets) };
  });

  const upsertLock = unary(deps, async (req: LockV2, caller): Promise<Empty> => {
    requireRule(policy, caller, 'create', 'lock');
    requireRule(policy, caller, 'update', 'lock');
    // api/types/lock.go, LockV2.CheckAndSetDefaults (run when the backend marshals it):
    // static kind and version, a name (Metadata.CheckAndSetDefaults), a non-empty target.
    const name = req.metadata?.name ?? '';
    if (name === '') throw new ServerError(3, 'missing parameter Name');
    if (isEmptyTarget(req.spec?.target)) throw new ServerError(3, 'at least one target field must be set');
    const now = deps.now();
    const lock: LockV2 = {
      ...req,
      kind: 'lock',
      version: 'v2',
      metadata: metadata(name, { ...req.metadata, name, namespace: 'default', revision: '' }),
      spec: {
        ...req.spec!,
        createdAt: setTime(req.spec?.createdAt) ?? now,
        createdBy: req.spec?.createdBy || caller.user,
      },
    };
    await locks.upsert(lock);
    deps.log(`lock ${name} upserted by ${caller.user}`);
    return {};
  });

  const deleteLock = unary(deps, async (req: DeleteLockRequest, caller): Promise<Empty> => {
    requireRule(policy, caller, 'delete', 'lock');
    if (!(await locks.delete(req.name, deps.now()))) throw lockNotFound(req.name);
    deps.log(`lock ${req.name} deleted by ${caller.user}`);
    return {};
  });

  return {
    getLock,
    getLocks,
    upsertLock,
    deleteLock,
    ping,
    getAccessRequestsV2,
    listAccessRequests,
    createAccessRequestV2,
    deleteAccessRequest,
    setAccessRequestState,
    submitAccessReview,
    getAccessCapabilities,
    listRequestableRoles,
    watchEvents,
    listResources,
    listUnifiedResources,
    generateUserCerts,
    getCurrentUser,
    getCurrentUserRoles,
    getDomainName,
    getClusterCaCert,
  };
}

/**
 * Removes every request whose metadata.expires has passed; each removal is durable
 * before its DELETE event goes out. Returns how many were removed.
 */
export async function sweepExpired(store: RequestStore, now: Date): Promise<number> {
  const due = store.expiredAt(now);
  const results = await Promise.all(
    due.map((req) =>
      store.mutate(req.metadata!.name, (current) =>
        current && expiryOf(current) <= now.getTime() ? { op: 'delete' } : undefined,
      ),
    ),
  );
  return results.filter((c) => c !== undefined).length;
}
