/**
 * Assuming an approved request in a certificate.
 */
import { type AccessRequestV3, RequestState } from '../../gen/teleport/legacy/types/types.js';
import {
  requestAwaitingApproval,
  requestCannotBeAssumedUntil,
  requestDenied,
  requestExpired,
  requestNotFound,
  requestPromoted,
} from '../../model/server-messages.js';
import { isSetTime } from '../../model/time.js';
import { resourceIdString } from '../resources.js';
import { accessDenied, badParameter, notFound } from '../types.js';
import { expiryOf } from './expiry.js';

/** The JSON resource-ID strings a certificate carries for an approved resource request. */
export function allowedResourceIdsOf(req: AccessRequestV3): string[] {
  return (req.spec?.requestedResourceIds ?? []).map(resourceIdString);
}

/**
 * lib/auth/auth.go, getValidatedAccessRequest: the request `id` as `user` may assume it at
 * `now`, in Teleport's order. It is looked up with a user filter, so another user's request,
 * like a missing one or one past its expiry (the backend returns no expired item), is
 * NotFound; then a denied, promoted or pending one is AccessDenied; then an access expiry
 * already past or an assume start time still ahead is BadParameter. One rule for every
 * request GenerateUserCerts puts in a certificate, those already in it included.
 */
export function validatedRequest(
  found: AccessRequestV3 | undefined,
  id: string,
  user: string,
  now: Date,
): AccessRequestV3 {
  if (!found || found.spec?.user !== user || expiryOf(found) <= now.getTime()) {
    throw notFound(requestNotFound(id));
  }
  const spec = found.spec;
  switch (spec.state) {
    case RequestState.APPROVED:
      break;
    case RequestState.DENIED:
      throw accessDenied(requestDenied(id));
    case RequestState.PROMOTED:
      throw accessDenied(requestPromoted(id));
    default:
      throw accessDenied(requestAwaitingApproval(id));
  }
  if (isSetTime(spec.expires) && spec.expires.getTime() < now.getTime())
    throw badParameter(requestExpired(id));
  if (isSetTime(spec.assumeStartTime) && spec.assumeStartTime.getTime() > now.getTime()) {
    throw badParameter(requestCannotBeAssumedUntil(id, spec.assumeStartTime));
  }
  return found;
}
