/**
 * Assuming an approved request in a certificate.
 */
import { type AccessRequestV3, RequestState } from '../../gen/teleport/legacy/types/types.js';
import { isSetTime } from '../../model/time.js';
import { resourceIdString } from '../resources.js';
import { accessDenied } from '../types.js';
import { expiryOf } from './expiry.js';

/** The JSON resource-ID strings a certificate carries for an approved resource request. */
export function allowedResourceIdsOf(req: AccessRequestV3): string[] {
  return (req.spec?.requestedResourceIds ?? []).map(resourceIdString);
}

/**
 * Checks that `req` may be assumed by `user` at `now`: owned by the user, approved, neither
 * its access nor the request itself expired, and past its assume start time. One rule for
 * GenerateUserCerts (which checks each requested ID before anything else) and the policy's
 * certificate grant.
 */
export function checkAssumable(req: AccessRequestV3, user: string, now: Date): void {
  const id = req.metadata?.name ?? '';
  const spec = req.spec;
  if (spec?.user !== user) throw accessDenied(`access request "${id}" is not owned by user "${user}"`);
  if (spec.state !== RequestState.APPROVED) throw accessDenied(`access request "${id}" is not approved`);
  const accessEnd = isSetTime(spec.expires) ? spec.expires.getTime() : Number.POSITIVE_INFINITY;
  if (accessEnd <= now.getTime() || expiryOf(req) <= now.getTime()) {
    throw accessDenied(`access request "${id}" has expired`);
  }
  if (isSetTime(spec.assumeStartTime) && spec.assumeStartTime.getTime() > now.getTime()) {
    throw accessDenied(
      `access request "${id}" can not be assumed until ${spec.assumeStartTime.toISOString()}`,
    );
  }
}
