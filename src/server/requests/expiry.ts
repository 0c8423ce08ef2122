/**
 * How long a new request waits for review, how long its access may last, and when it may be
 * assumed: Teleport's truncateTTL, calculateMaxAccessDuration, calculatePendingRequestTTL and
 * ValidateAssumeStartTime (lib/services/access_request.go).
 */
import type { AccessRequestV3 } from '../../gen/teleport/legacy/types/types.js';
import { formatDuration, parseDuration } from '../../model/duration.js';
import { MAX_ACCESS_DURATION_MS } from '../../model/limits.js';
import { isSetTime } from '../../model/time.js';
import { type Catalog, rolesNamed } from '../rbac.js';
import type { Caller } from '../types.js';
import { badParameter } from '../types.js';
import type { RequestValidator } from './validator.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** How long a request awaits review by default, and at most. */
export const PENDING_TTL_MS = 7 * DAY;
/** Teleport's MaxCertDuration, also the default max_session_ttl of a role. */
export const MAX_CERT_DURATION_MS = 30 * HOUR;
/** Latest assume start time after creation (MaxAssumeStartDuration). */
export const MAX_ASSUME_START_MS = 7 * DAY;

export function durationOf(s: string | undefined): number {
  if (!s) return 0;
  try {
    return parseDuration(s);
  } catch {
    return 0;
  }
}

export function validateAssumeStartTime(start: Date, accessExpiry: Date, created: Date): void {
  if (start.getTime() < created.getTime()) {
    throw badParameter(`assume start time has to be after ${rfc3339(created)}`);
  }
  if (start.getTime() >= accessExpiry.getTime()) {
    throw badParameter(`assume start time must be prior to access expiry time at ${rfc3339(accessExpiry)}`);
  }
  const latest = created.getTime() + MAX_ASSUME_START_MS;
  if (latest < accessExpiry.getTime() && start.getTime() > latest) {
    throw badParameter(
      `assume start time is too far in the future, latest time allowed is ${rfc3339(new Date(latest))}`,
    );
  }
}

export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function setExpiries(
  catalog: Catalog,
  v: RequestValidator,
  actor: Caller,
  spec: NonNullable<AccessRequestV3['spec']>,
  metadata: NonNullable<AccessRequestV3['metadata']>,
  now: Date,
): void {
  const t = now.getTime();
  const requestedAccess = isSetTime(spec.expires) ? spec.expires.getTime() - t : undefined;

  // Session TTL: the caller's certificate, the requested access expiry and every requested
  // role's max_session_ttl, strictest first (Teleport's truncateTTL).
  let sessionTTL = MAX_CERT_DURATION_MS;
  const identityTTL = actor.expires.getTime() - t;
  if (identityTTL > 0 && identityTTL < sessionTTL) sessionTTL = identityTTL;
  if (requestedAccess !== undefined && requestedAccess > 0 && requestedAccess < sessionTTL)
    sessionTTL = requestedAccess;
  for (const role of rolesNamed(catalog, spec.roles)) {
    const ttl = durationOf(role.options.max_session_ttl);
    if (ttl > 0 && ttl < sessionTTL) sessionTTL = ttl;
  }
  if (requestedAccess !== undefined && requestedAccess > sessionTTL) {
    throw badParameter(
      `invalid session TTL: ${formatDuration(requestedAccess)} greater than maximum allowed (${formatDuration(sessionTTL)})`,
    );
  }

  // Max duration (Teleport's calculateMaxAccessDuration).
  const maxDurationSet = isSetTime(spec.maxDuration);
  let requestedMax = maxDurationSet ? spec.maxDuration!.getTime() - t : 0;
  if (spec.dryRun) requestedMax = MAX_ACCESS_DURATION_MS;
  else if (maxDurationSet && requestedMax < 0) {
    throw badParameter('invalid maxDuration: must be greater than creation time');
  }
  if (requestedMax > MAX_ACCESS_DURATION_MS) {
    throw badParameter(
      `max_duration must be less than or equal to ${formatDuration(MAX_ACCESS_DURATION_MS)}`,
    );
  }
  let minAdj = 0;
  for (const role of spec.roles) {
    const ms = v.maxDurationForRole(role);
    if (minAdj === 0 || ms < minAdj) minAdj = ms;
  }
  if (maxDurationSet && requestedMax < minAdj) minAdj = requestedMax;
  const maxDuration = minAdj === 0 && requestedMax < sessionTTL ? requestedMax : minAdj;

  let accessDuration: number;
  if (maxDuration > 0) {
    spec.sessionTtl = new Date(t + Math.min(sessionTTL, maxDuration));
    accessDuration = maxDuration;
  } else {
    spec.sessionTtl = new Date(t + sessionTTL);
    accessDuration = sessionTTL;
  }
  const accessExpiry = new Date(t + accessDuration);
  spec.maxDuration = accessExpiry;
  spec.expires = accessExpiry;

  // How long the request awaits review (Teleport's calculatePendingRequestTTL).
  const requestedPending = isSetTime(spec.resourceExpiry)
    ? spec.resourceExpiry
    : isSetTime(metadata.expires)
      ? metadata.expires
      : undefined;
  let pending: number;
  if (!requestedPending) {
    pending = Math.min(PENDING_TTL_MS, accessDuration);
  } else {
    pending = requestedPending.getTime() - t;
    if (pending < 0) throw badParameter('invalid request TTL: Access Request can not be created in the past');
    for (const limit of [PENDING_TTL_MS, accessDuration]) {
      if (pending > limit) {
        throw badParameter(
          `invalid request TTL: ${formatDuration(pending)} greater than maximum allowed (${formatDuration(limit)})`,
        );
      }
    }
  }
  metadata.expires = new Date(t + pending);
  spec.resourceExpiry = metadata.expires;

  if (isSetTime(spec.assumeStartTime)) validateAssumeStartTime(spec.assumeStartTime, accessExpiry, now);
  else spec.assumeStartTime = undefined;
}

/** The time a request is removed by the sweeper (metadata.expires), or Infinity when unset. */
export function expiryOf(req: AccessRequestV3): number {
  const expires = req.metadata?.expires;
  return isSetTime(expires) ? expires.getTime() : Number.POSITIVE_INFINITY;
}
