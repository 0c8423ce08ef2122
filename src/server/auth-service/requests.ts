/**
 * The access request handlers of AuthService: listing (filter, scope, visibility), creation,
 * deletion, SetAccessRequestState, reviews and GetAccessCapabilities, each checking rules in
 * Teleport's order (lib/auth/auth_with_roles.go) before the store changes anything.
 */
import type { Empty } from '../../gen/google/protobuf/empty.js';
import {
  AccessRequestSort,
  type ListAccessRequestsRequest,
} from '../../gen/teleport/legacy/client/proto/authservice.js';
import {
  type AccessRequestFilter,
  AccessRequestScope,
  type AccessRequestV3,
  RequestState,
} from '../../gen/teleport/legacy/types/types.js';
import { fieldsMatchKeywords } from '../../model/search.js';
import {
  CREATE_NON_PENDING_WHILE_ASSUMED,
  CREATE_SELF_NON_PENDING,
  deleteNotFound,
  reviewNotFound,
  setStateNotFound,
} from '../../model/server-messages.js';
import { authorizeAdminAction, isCurrentUserAction, requireRule } from '../authz.js';
import { matchesFilter } from '../events.js';
import { serverStream, unary, writeWithBackpressure } from '../grpc/handlers.js';
import { accessRequestPageLimit } from '../grpc/paging.js';
import { metadata, setTime } from '../grpc/shape.js';
import type { AuthServiceServer } from '../grpc-definitions.js';
import { requestableRolesPage } from '../requestable-roles.js';
import { checkNewRequest } from '../requests/create.js';
import { expiryOf } from '../requests/expiry.js';
import { fromLabelValues, uuidv7 } from '../requests/wire.js';
import { resourceIdString } from '../resources.js';
import type { ServiceDeps } from '../service.js';
import type { SortField } from '../storage/store.js';
import { accessDenied, badParameter, type Caller, notFound, type Policy } from '../types.js';

/**
 * api/types/access_request.go, AccessRequestV3.MatchSearch: every keyword must appear,
 * case-insensitively, in a label key or value, the ID, the user, a role or the name of a
 * requested resource; reasons, reviewers and the state are not searched.
 */
function matchesKeywords(req: AccessRequestV3, keywords: string[]): boolean {
  const spec = req.spec;
  return fieldsMatchKeywords(
    [
      ...Object.entries(req.metadata?.labels ?? {}).flat(),
      req.metadata?.name,
      spec?.user,
      ...(spec?.roles ?? []),
      ...(spec?.requestedResourceIds ?? []).map((r) => r.name),
    ],
    keywords,
  );
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
  // lib/auth/auth_with_roles.go, ListAccessRequests: without `list` and `read` a caller still
  // sees its own requests and those it may review, unless a deny rule names either verb.
  if (!policy.allows(caller, 'list') || !policy.allows(caller, 'read')) {
    for (const verb of ['list', 'read'] as const) {
      if (policy.denies(caller, verb)) requireRule(policy, caller, verb);
    }
  }
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
    case AccessRequestSort.CREATED:
      return 'created';
    default:
      // lib/services/access_request_cache.go: DEFAULT is the ID index.
      return 'id';
  }
}

/**
 * The stored request unless it is missing or past its expiry but not yet swept: Teleport's
 * backend never returns an expired item, and approving one would move its expiry out and
 * bring it back to life.
 */
function liveOrNotFound(current: AccessRequestV3 | undefined, id: string, now: Date): AccessRequestV3 {
  if (!current || expiryOf(current) <= now.getTime()) throw notFound(reviewNotFound(id));
  return current;
}

/** GetAccessRequestsV2, ListAccessRequests, create, delete, set state, review, capabilities. */
export function requestHandlers(deps: ServiceDeps) {
  const { policy, store } = deps;

  const getAccessRequestsV2 = serverStream<AccessRequestFilter, AccessRequestV3>(
    deps,
    async (filter, caller, call) => {
      const match = requestMatcher(policy, caller, filter);
      let startKey = '';
      do {
        // The backend's range scan: requests in ID order.
        const page = store.page({ sort: 'id', descending: false, startKey, limit: 500, match });
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
      limit: accessRequestPageLimit(req.limit),
      match: requestMatcher(policy, caller, req.filter),
    });
    return { accessRequests: page.items, nextKey: page.nextKey };
  });

  const createAccessRequestV2 = unary(deps, async (req: AccessRequestV3, caller) => {
    const now = deps.now();
    const state = checkNewRequest(req);
    const user = req.spec!.user;
    const self = user === caller.user;
    // lib/auth/auth_with_roles.go, CreateAccessRequestV2, in Teleport's order: without the
    // `create` rule only a pending request for oneself (currentUserAction) passes, and not when
    // a deny rule names `create`.
    if (!policy.allows(caller, 'create')) {
      const pending = state === RequestState.PENDING;
      if (policy.denies(caller, 'create') || !pending || !isCurrentUserAction(policy, caller, user)) {
        requireRule(policy, caller, 'create');
      }
    }
    if (state !== RequestState.PENDING) {
      if (self) throw accessDenied(CREATE_SELF_NON_PENDING);
      if (caller.activeRequests.length > 0) throw accessDenied(CREATE_NON_PENDING_WHILE_ASSUMED);
    }
    // Acting for someone else by a rule, not ownership, is an admin action (MFA).
    if (!self) authorizeAdminAction(policy, caller);
    // "ensure request ID is set server-side": the client's name is checked, never kept.
    const id = uuidv7(now);
    const input: AccessRequestV3 = {
      ...req,
      kind: 'access_request',
      version: 'v3',
      // metadata.expires is how clients ask for a request TTL (how long it may stay pending).
      metadata: metadata(id, { labels: req.metadata?.labels ?? {}, expires: setTime(req.metadata?.expires) }),
      spec: { ...req.spec!, user, state },
    };
    const prepared = policy.prepareCreate(caller, input, now);
    prepared.kind = 'access_request';
    prepared.version = 'v3';
    prepared.metadata = { ...metadata(id), ...prepared.metadata, name: id, namespace: 'default' };
    if (req.spec!.dryRun) {
      prepared.spec = { ...prepared.spec!, dryRun: true };
      return prepared;
    }
    prepared.spec = { ...prepared.spec!, dryRun: false };
    const stored = await store.create(prepared);
    deps.log(`access request ${id} created by ${caller.user} for ${user} (${prepared.spec.roles.join(',')})`);
    return stored;
  });

  const deleteAccessRequest = unary(deps, async (req: { id: string }, caller): Promise<Empty> => {
    // lib/auth/auth_with_roles.go, DeleteAccessRequest: the `delete` rule, then admin MFA.
    requireRule(policy, caller, 'delete');
    authorizeAdminAction(policy, caller);
    await store.mutate(req.id, (current) => {
      if (!current) throw notFound(deleteNotFound(req.id));
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
        throw accessDenied(
          'cannot directly update the state of an access request while using an access request',
        );
      }
      authorizeAdminAction(policy, caller);
      if (req.state === RequestState.PROMOTED) {
        throw badParameter('state promoted can be only set when promoting to access list');
      }
      if (!req.id) throw badParameter('missing access request ID');
      const now = deps.now();
      await store.mutate(req.id, (current) => {
        if (!current || expiryOf(current) <= now.getTime()) {
          throw notFound(setStateNotFound(req.id));
        }
        if (current.spec?.user === caller.user) {
          throw accessDenied('directly updating the state of your own access requests is not permitted');
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
    if (!review) throw badParameter('missing review');
    if (!sub.requestId) throw badParameter('missing access request ID');
    // lib/auth/auth_with_roles.go, SubmitAccessReview and AuthorizeAccessReviewRequest: no
    // promotion here; the author is the caller (only Teleport's builtin Admin role, which no
    // certificate of this server carries, may name another); then admin MFA.
    if (review.proposedState === RequestState.PROMOTED) {
      throw badParameter('state promoted can be only set when promoting to access list');
    }
    if (review.author && review.author !== caller.user) {
      throw accessDenied(`user "${caller.user}" cannot submit reviews on behalf of "${review.author}"`);
    }
    // RoleSet.MaybeCanReviewRequests: without any allow.review_requests, certainly not.
    const mayReview = caller.roles.some((name) => {
      const cond = policy.role(name)?.allow.review_requests;
      return cond !== undefined && Object.values(cond).some((v) => (Array.isArray(v) ? v.length > 0 : !!v));
    });
    if (!mayReview) throw accessDenied(`user "${caller.user}" cannot submit reviews`);
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

  return {
    getAccessRequestsV2,
    listAccessRequests,
    createAccessRequestV2,
    deleteAccessRequest,
    setAccessRequestState,
    submitAccessReview,
    getAccessCapabilities,
    listRequestableRoles,
  } satisfies Partial<AuthServiceServer>;
}
