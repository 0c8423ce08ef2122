/**
 * Who may see and review a request, and applying a review: Teleport's CanReviewRequest,
 * threshold filters and calculateReviewBasedResolution.
 */
import { status } from '@grpc/grpc-js';
import { AccessRequestV3, type AccessReview, RequestState } from '../../gen/teleport/legacy/types/types.js';
import { MAX_REASON_BYTES } from '../../model/limits.js';
import { cannotReviewRequest } from '../../model/server-messages.js';
import { isSetTime } from '../../model/time.js';
import { type Catalog, canReviewRequest, type ReviewTarget, rolesNamed, rulesAllow } from '../rbac.js';
import { type ReviewContext, reviewExprMatches } from '../review-env.js';
import type { Caller, User } from '../types.js';
import { accessDenied, badParameter, ServerError } from '../types.js';
import { validateAssumeStartTime } from './expiry.js';
import { dedupe, fromLabelValues, stateName } from './wire.js';

/** The roles a request was created with: the rtm keys once an approval narrowed the role list. */
export function originalRoles(req: AccessRequestV3): string[] {
  const spec = req.spec!;
  const rtm = Object.keys(spec.roleThresholdMapping ?? {});
  if (rtm.length === 0 || rtm.length === spec.roles.length) return spec.roles;
  return rtm.sort();
}

export function reviewTarget(req: AccessRequestV3): ReviewTarget {
  const spec = req.spec!;
  return {
    user: spec.user,
    roles: originalRoles(req),
    reason: spec.requestReason,
    systemAnnotations: fromLabelValues(spec.systemAnnotations),
  };
}

/** The reviewer as the policy sees it: its seeded (static) roles and traits, else its certificate's. */
function staticUser(catalog: Catalog, caller: Caller): User {
  return catalog.users.get(caller.user) ?? { name: caller.user, roles: caller.roles, traits: caller.traits };
}

/** Whether the caller's static roles allow reviewing the request (Teleport's CanReviewRequest). */
export function canReview(catalog: Catalog, caller: Caller, req: AccessRequestV3): boolean {
  const user = staticUser(catalog, caller);
  return canReviewRequest(user, rolesNamed(catalog, user.roles), reviewTarget(req));
}

/** Own requests, requests the caller can review, or all with both `list` and `read` rules. */
export function canSee(catalog: Catalog, caller: Caller, req: AccessRequestV3): boolean {
  if (req.spec?.user === caller.user) return true;
  const roles = rolesNamed(catalog, caller.roles);
  if (rulesAllow(roles, 'access_request', 'list') && rulesAllow(roles, 'access_request', 'read')) return true;
  return canReview(catalog, caller, req);
}

/**
 * Teleport's calculateReviewBasedResolution: reviews are counted in order against every
 * threshold they matched; any deny threshold reached denies; a role is approved when each of
 * its threshold sets has one threshold whose approvals are reached; the request is approved
 * when every role is.
 */
function resolution(
  spec: NonNullable<AccessRequestV3['spec']>,
): { state: RequestState; reason: string } | undefined {
  const { thresholds, reviews } = spec;
  if (thresholds.length === 0 || reviews.length === 0) return undefined;
  const approvals = thresholds.map(() => 0);
  const denials = thresholds.map(() => 0);
  const approved = new Set<string>();
  const roles = Object.entries(spec.roleThresholdMapping);
  for (const rev of reviews) {
    for (const i of rev.thresholdIndexes) {
      if (rev.proposedState === RequestState.APPROVED) approvals[i] += 1;
      else if (rev.proposedState === RequestState.DENIED) denials[i] += 1;
    }
    if (thresholds.some((t, i) => t.deny !== 0 && denials[i] >= t.deny)) {
      return rev.proposedState === RequestState.DENIED
        ? { state: RequestState.DENIED, reason: rev.reason }
        : undefined;
    }
    for (const [role, { sets }] of roles) {
      const met = sets.every((set) =>
        set.indexes.some((i) => thresholds[i].approve !== 0 && approvals[i] >= thresholds[i].approve),
      );
      if (met) approved.add(role);
    }
    if (approved.size === roles.length) {
      return rev.proposedState === RequestState.APPROVED
        ? { state: RequestState.APPROVED, reason: rev.reason }
        : undefined;
    }
  }
  return undefined;
}

/** Applies a review (see Policy.applyReview). */
export function applyReview(
  catalog: Catalog,
  author: Caller,
  input: AccessRequestV3,
  review: AccessReview,
  now: Date,
): AccessRequestV3 {
  const req = AccessRequestV3.fromPartial(input);
  const spec = req.spec!;
  const id = req.metadata?.name ?? '';
  if (review.proposedState !== RequestState.APPROVED && review.proposedState !== RequestState.DENIED) {
    throw badParameter(
      `invalid state proposal: ${stateName(review.proposedState)} (expected approval/denial)`,
    );
  }
  if (Buffer.byteLength(review.reason, 'utf8') > MAX_REASON_BYTES) {
    throw badParameter(`access review reason is too long, max ${MAX_REASON_BYTES} bytes`);
  }
  // lib/services/local/dynamic_access.go, ApplyAccessReview: one text for one's own request
  // and for a request one's roles may not review.
  if (!canReview(catalog, author, req)) throw accessDenied(cannotReviewRequest(author.user, id));
  if (spec.thresholds.length === 0)
    throw badParameter('request is uninitialized or does not support reviews');
  if (spec.reviews.some((r) => r.author === author.user)) {
    throw accessDenied(`user ${JSON.stringify(author.user)} has already reviewed this request`);
  }
  // checkReviewCompat's order: role subselection (NotImplemented) before membership.
  const rtm = spec.roleThresholdMapping;
  const reviewRoles = dedupe(review.roles).sort();
  if (reviewRoles.length !== 0 && reviewRoles.length !== Object.keys(rtm).length) {
    throw new ServerError(
      status.UNIMPLEMENTED,
      'role subselection is not yet supported in reviews, try omitting role list',
    );
  }
  const annotations = fromLabelValues(review.annotations);
  if (Object.keys(annotations).length !== 0) {
    throw new ServerError(
      status.UNIMPLEMENTED,
      'annotations are not yet supported in reviews, try omitting annotations field',
    );
  }
  for (const role of reviewRoles) {
    if (!Object.hasOwn(rtm, role))
      throw badParameter(`role ${JSON.stringify(role)} is not a member of this request`);
  }
  if (spec.state !== RequestState.PENDING) {
    throw accessDenied(`the access request has been already ${stateName(spec.state).toLowerCase()}`);
  }

  const reviewer = staticUser(catalog, author);
  const ctx: ReviewContext = {
    reviewer: { roles: reviewer.roles, traits: reviewer.traits },
    review: { reason: review.reason, annotations },
    request: {
      roles: originalRoles(req),
      reason: spec.requestReason,
      systemAnnotations: fromLabelValues(spec.systemAnnotations),
    },
  };
  const indexes = spec.thresholds.flatMap((t, i) => (reviewExprMatches(t.filter, true, ctx) ? [i] : []));
  const stored: AccessReview = {
    author: author.user,
    roles: reviewRoles,
    proposedState: review.proposedState,
    reason: review.reason,
    created: isSetTime(review.created) ? review.created : now,
    annotations: review.annotations,
    thresholdIndexes: indexes,
    accessList: review.accessList,
    assumeStartTime: isSetTime(review.assumeStartTime) ? review.assumeStartTime : undefined,
  };
  spec.reviews = [...spec.reviews, stored];
  if (stored.assumeStartTime) {
    validateAssumeStartTime(stored.assumeStartTime, spec.expires ?? now, spec.created ?? now);
    spec.assumeStartTime = stored.assumeStartTime;
  }
  const outcome = resolution(spec);
  if (outcome) {
    spec.state = outcome.state;
    spec.resolveReason = outcome.reason;
    markResolved(req);
  }
  return req;
}

/** A resolved request lives until its access expires (Teleport sets the resource expiry so). */
export function markResolved(req: AccessRequestV3): void {
  const spec = req.spec!;
  if (isSetTime(spec.expires)) {
    req.metadata = { ...req.metadata!, expires: spec.expires };
    spec.resourceExpiry = spec.expires;
  }
}
