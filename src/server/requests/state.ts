/**
 * SetAccessRequestState: Teleport's state transitions and role narrowing.
 */
import { AccessRequestV3, RequestState } from '../../gen/teleport/legacy/types/types.js';
import { annotationsProblem, MAX_REASON_BYTES } from '../../model/limits.js';
import { isSetTime } from '../../model/time.js';
import type { StateChange } from '../types.js';
import { badParameter } from '../types.js';
import { validateAssumeStartTime } from './expiry.js';
import { markResolved } from './review.js';
import { dedupe, stateName, toLabelValues } from './wire.js';

/** Resolve annotation key that records who a SetAccessRequestState was delegated by. */
export const DELEGATOR_ANNOTATION = 'delegator';

/** Applies SetAccessRequestState (see Policy.applyState). */
export function applyState(input: AccessRequestV3, change: StateChange, now: Date): AccessRequestV3 {
  const req = AccessRequestV3.fromPartial(input);
  const spec = req.spec!;
  const target = change.state as RequestState;
  if (target === RequestState.NONE) throw badParameter('missing request state');
  if (change.roles.length > 0 && target !== RequestState.APPROVED) {
    throw badParameter(`cannot override roles when setting state: ${stateName(target)}`);
  }
  if (Buffer.byteLength(change.reason, 'utf8') > MAX_REASON_BYTES) {
    throw badParameter(`access request resolve reason is too long, max ${MAX_REASON_BYTES} bytes`);
  }
  const annotationProblem = annotationsProblem(change.annotations);
  if (annotationProblem) throw badParameter(annotationProblem);
  if (target === RequestState.PENDING || !(target in RequestState)) {
    throw badParameter(`cannot set request-state ${JSON.stringify(stateName(target))}`);
  }
  if (spec.state === RequestState.DENIED && target !== RequestState.DENIED) {
    throw badParameter(`cannot set request-state ${JSON.stringify(stateName(target))} (already denied)`);
  }
  if (spec.state === RequestState.PROMOTED && target !== RequestState.PROMOTED) {
    throw badParameter(`cannot set request-state ${JSON.stringify(stateName(target))} (already promoted)`);
  }
  if (
    target === RequestState.PROMOTED &&
    spec.state !== RequestState.PENDING &&
    spec.state !== RequestState.PROMOTED
  ) {
    throw badParameter(
      `cannot set request-state "PROMOTED" (already ${stateName(spec.state).toLowerCase()})`,
    );
  }
  if (change.roles.length > 0) {
    for (const role of change.roles) {
      if (!spec.roles.includes(role)) {
        throw badParameter(
          `role ${JSON.stringify(role)} not in original request, overrides must be a subset of original role list`,
        );
      }
    }
    spec.roles = dedupe(change.roles).sort();
  }
  if (change.assumeStartTime && isSetTime(change.assumeStartTime)) {
    validateAssumeStartTime(change.assumeStartTime, spec.expires ?? now, spec.created ?? now);
    spec.assumeStartTime = change.assumeStartTime;
  }
  const annotations: Record<string, string[]> = { ...change.annotations };
  if (change.delegator !== '' && !Object.hasOwn(annotations, DELEGATOR_ANNOTATION)) {
    annotations[DELEGATOR_ANNOTATION] = [change.delegator];
  }
  spec.state = target;
  spec.resolveReason = change.reason;
  spec.resolveAnnotations = toLabelValues(annotations);
  if (target === RequestState.APPROVED) markResolved(req);
  return req;
}
