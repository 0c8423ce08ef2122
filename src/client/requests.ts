/**
 * Access requests in the domain's words: commands pass and get model types
 * (src/model/request.ts); the proto messages, the RequestState numbers and the mapping
 * (`map.ts`) stay here.
 */
import { randomUUID } from 'node:crypto';
import { RequestState } from '../gen/teleport/legacy/types/types.js';
import { AccessError } from '../model/errors.js';
import type { AccessRequest, ReasonPolicy } from '../model/request.js';
import type { ResourceId } from '../model/resource-id.js';
import { isReasonRequiredRefusal } from '../model/server-messages.js';
import type { Connection } from './connect.js';
import { isRpcError } from './errors.js';
import { reasonPolicyFromDryRun, recordToLabelValues, requestFromProto, resourceIdToProto } from './map.js';
import type { CallOptions } from './rpc.js';

export type { RequestQuery } from './list.js';

/** A request to create, as the user describes it. Durations are counted from `now`. */
export interface RequestDraft {
  roles: string[];
  resources: ResourceId[];
  reason: string;
  /** Suggested reviewers. */
  reviewers: string[];
  /** How long the request may stay pending. */
  requestTtlMs?: number;
  /** How long access lasts once assumed. */
  sessionTtlMs?: number;
  /** The longest access may be granted for, counted from creation. */
  maxDurationMs?: number;
  assumeStartTime?: Date;
  /** Create for this user (needs the `create` rule); default: the caller. */
  user?: string;
  /** Validate only: the server answers with the request it would create and stores nothing. */
  dryRun: boolean;
}

/** The two states a reviewer may propose or an administrator may set. */
export type Resolution = 'APPROVED' | 'DENIED';

const WIRE_STATE: Record<Resolution, RequestState> = {
  APPROVED: RequestState.APPROVED,
  DENIED: RequestState.DENIED,
};

function after(now: Date, ms: number | undefined): Date | undefined {
  return ms === undefined ? undefined : new Date(now.getTime() + ms);
}

/**
 * Creates (or, with dryRun, validates) an access request and returns it as the server
 * stored it. The ID is chosen here; a server that answers without one (older versions
 * echo nothing on a dry run) keeps ours.
 */
export async function createRequest(
  conn: Connection,
  draft: RequestDraft,
  opts: CallOptions & { now: Date },
): Promise<AccessRequest> {
  return (await submit(conn, draft, opts)).request;
}

/**
 * Validates a request without storing it: the request the server would create, and the
 * reason policy a newer server adds to a dry run's answer (spec.dry_run_enrichment;
 * undefined from a server that sends none).
 */
export async function dryRunRequest(
  conn: Connection,
  draft: RequestDraft,
  opts: CallOptions & { now: Date },
): Promise<{ request: AccessRequest; reasonPolicy: ReasonPolicy | undefined }> {
  return submit(conn, { ...draft, dryRun: true }, opts);
}

async function submit(
  conn: Connection,
  draft: RequestDraft,
  opts: CallOptions & { now: Date },
): Promise<{ request: AccessRequest; reasonPolicy: ReasonPolicy | undefined }> {
  const id = randomUUID();
  const accessExpiry = after(opts.now, draft.sessionTtlMs);
  // Teleport's SetExpiry writes spec.resource_expiry (v15+); metadata.expires is where older
  // servers look. Both carry the pending TTL.
  const pendingExpiry = after(opts.now, draft.requestTtlMs);
  const proto = await conn.auth.createAccessRequestV2(
    {
      kind: 'access_request',
      version: 'v3',
      metadata: { name: id, namespace: 'default', expires: pendingExpiry },
      spec: {
        user: draft.user ?? conn.identity.username,
        roles: draft.roles,
        requestedResourceIds: draft.resources.map(resourceIdToProto),
        requestReason: draft.reason,
        suggestedReviewers: draft.reviewers,
        expires: accessExpiry,
        sessionTtl: accessExpiry,
        maxDuration: after(opts.now, draft.maxDurationMs),
        assumeStartTime: draft.assumeStartTime,
        resourceExpiry: pendingExpiry,
        dryRun: draft.dryRun,
      },
    },
    { signal: opts.signal, timeoutMs: opts.timeoutMs },
  );
  const created = requestFromProto(proto);
  return {
    request: created.id || draft.dryRun ? created : { ...created, id },
    reasonPolicy: draft.dryRun ? reasonPolicyFromDryRun(proto) : undefined,
  };
}

/**
 * Whether `err` is the server saying the request needs a reason (Teleport's
 * `request reason must be specified`, lib/services/access_request.go).
 */
export function isReasonRequired(err: unknown): boolean {
  return isRpcError(err) && isReasonRequiredRefusal(err.code, err.details);
}

/**
 * Reads one request by ID; NotFound (exit 6) when it does not exist or is not visible.
 * The read is a server stream, which has no deadline by default; it gets the unary one.
 */
export async function getRequest(
  conn: Connection,
  id: string,
  call: CallOptions = {},
): Promise<AccessRequest> {
  const opts = { signal: call.signal, timeoutMs: call.timeoutMs ?? conn.rpcTimeoutMs };
  for await (const r of conn.auth.getAccessRequestsV2({ id }, opts)) {
    if (r.metadata?.name === id) return requestFromProto(r);
  }
  throw new AccessError('not-found', `access request ${JSON.stringify(id)} not found`);
}

/** Every request of `user` the caller may read (GetAccessRequestsV2, with the unary deadline). */
export async function* userRequests(
  conn: Connection,
  user: string,
  call: CallOptions = {},
): AsyncGenerator<AccessRequest> {
  const opts = { signal: call.signal, timeoutMs: call.timeoutMs ?? conn.rpcTimeoutMs };
  for await (const r of conn.auth.getAccessRequestsV2({ user }, opts)) yield requestFromProto(r);
}

/**
 * Every request the caller may read, each with its revision (which changes on every write),
 * for followers that must tell a new state from one already seen.
 */
export async function* requestsWithRevision(
  conn: Connection,
  call: CallOptions = {},
): AsyncGenerator<{ request: AccessRequest; revision: string }> {
  for await (const r of conn.auth.getAccessRequestsV2({}, call)) {
    yield { request: requestFromProto(r), revision: r.metadata?.revision ?? '' };
  }
}

/** A review as the caller submits it. */
export interface ReviewDraft {
  proposal: Resolution;
  reason: string;
  assumeStartTime?: Date;
  /** When the review was written. */
  created: Date;
}

/** Submits the caller's review of request `id`; returns the request after the review. */
export async function reviewRequest(
  conn: Connection,
  id: string,
  review: ReviewDraft,
  call: CallOptions = {},
): Promise<AccessRequest> {
  const proto = await conn.auth.submitAccessReview(
    {
      requestId: id,
      review: {
        author: conn.identity.username,
        proposedState: WIRE_STATE[review.proposal],
        reason: review.reason,
        created: review.created,
        assumeStartTime: review.assumeStartTime,
      },
    },
    call,
  );
  return requestFromProto(proto);
}

/** A direct state change, as `tctl requests approve|deny` makes it. */
export interface StateChange {
  state: Resolution;
  reason: string;
  annotations: Record<string, readonly string[]>;
  /** Narrow the approved roles (approve only); empty keeps all. */
  roles: string[];
  assumeStartTime?: Date;
  /** The user the change is made for; '' for none. */
  delegator: string;
}

/** Sets the state of request `id` (SetAccessRequestState; needs the `update` rule). */
export async function setRequestState(
  conn: Connection,
  id: string,
  change: StateChange,
  call: CallOptions = {},
): Promise<void> {
  await conn.auth.setAccessRequestState(
    {
      id,
      state: WIRE_STATE[change.state],
      reason: change.reason,
      annotations: recordToLabelValues(change.annotations),
      roles: change.roles,
      assumeStartTime: change.assumeStartTime,
      delegator: change.delegator,
    },
    call,
  );
}

/** Deletes request `id` (needs the `delete` rule); NotFound when there is none. */
export async function deleteRequest(conn: Connection, id: string, call: CallOptions = {}): Promise<void> {
  await conn.auth.deleteAccessRequest({ id }, call);
}

/**
 * Fails with the server's PermissionDenied when the caller may not delete requests, and
 * changes nothing either way. Teleport checks the `delete` rule before it looks at the
 * request (lib/auth/auth_with_roles.go: ServerWithRoles.DeleteAccessRequest calls
 * `a.action(..., KindAccessRequest, VerbDelete)` first), so deleting a fresh random ID is
 * refused for want of permission, or answers NotFound.
 */
export async function assertMayDeleteRequests(conn: Connection, call: CallOptions = {}): Promise<void> {
  try {
    await conn.auth.deleteAccessRequest({ id: randomUUID() }, call);
  } catch (err) {
    if (isRpcError(err) && err.kind === 'not-found') return;
    throw err;
  }
}
