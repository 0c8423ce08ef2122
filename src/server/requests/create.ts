/**
 * Creating a request: Teleport's ValidateAccessRequestForUser and RequestValidator.Validate,
 * then its completion (roles, thresholds, annotations, reviewers, expiries).
 */
import { AccessRequestV3, RequestState } from '../../gen/teleport/legacy/types/types.js';
import { requestSizeProblem } from '../../model/limits.js';
import { isRequestId } from '../../model/request-id.js';
import { REQUEST_USER_NOT_SET } from '../../model/server-messages.js';
import { type Catalog, rolesNamed, ruleDeniedMessage, rulesAllow } from '../rbac.js';
import { resourceIdString } from '../resources.js';
import type { Caller } from '../types.js';
import { accessDenied, badParameter, notFound } from '../types.js';
import { setExpiries } from './expiry.js';
import {
  applicableSearchAsRoles,
  kubeKindsError,
  pruneByKubeKinds,
  type ResolvedResources,
  resolveResources,
  rolesForResources,
} from './resources.js';
import { RequestValidator, userOrFail } from './validator.js';
import { dedupe, toLabelValues, uuidv7 } from './wire.js';

/**
 * What Teleport checks of a new request before any rule (lib/services/access_request.go,
 * ValidateAccessRequest, called by the gRPC server's CreateAccessRequestV2 first, with
 * api/types/access_request.go, AccessRequestV3.CheckAndSetDefaults): a name that is a UUID,
 * state NONE taken as PENDING, no resolution on a pending request, a user, and roles or
 * resources. Returns the state the request is created in.
 */
export function checkNewRequest(req: AccessRequestV3): RequestState {
  const name = req.metadata?.name ?? '';
  if (name === '') throw badParameter('missing parameter Name');
  const spec = req.spec;
  const state = spec?.state || RequestState.PENDING;
  if (state === RequestState.PENDING) {
    if (spec?.resolveReason) throw badParameter('pending requests cannot include resolve reason');
    if (Object.keys(spec?.resolveAnnotations?.values ?? {}).length > 0) {
      throw badParameter('pending requests cannot include resolve annotations');
    }
  }
  if (!spec?.user) throw badParameter(REQUEST_USER_NOT_SET);
  if (spec.roles.length === 0 && spec.requestedResourceIds.length === 0) {
    throw badParameter('access request does not specify any roles or resources');
  }
  if (!isRequestId(name)) throw badParameter(`invalid access request ID ${JSON.stringify(name)}`);
  return state;
}

/**
 * Validates a new request and completes it (see Policy.prepareCreate). `actor` is the caller;
 * `req.spec.user` the requester (defaults to the caller).
 */
export function prepareCreate(
  catalog: Catalog,
  actor: Caller,
  input: AccessRequestV3,
  now: Date,
): AccessRequestV3 {
  const req = AccessRequestV3.fromPartial(input);
  const spec = req.spec ?? AccessRequestV3.fromPartial({ spec: {} }).spec!;
  req.spec = spec;
  const metadata = req.metadata ?? AccessRequestV3.fromPartial({ metadata: {} }).metadata!;
  req.metadata = metadata;
  if (spec.user === '') spec.user = actor.user;
  if (spec.user !== actor.user && !rulesAllow(rolesNamed(catalog, actor.roles), 'access_request', 'create')) {
    throw accessDenied(ruleDeniedMessage('access_request', 'create'));
  }
  const user = userOrFail(catalog, spec.user);

  if (metadata.name === '') metadata.name = uuidv7(now);
  else if (!isRequestId(metadata.name))
    throw badParameter(`invalid access request ID ${JSON.stringify(metadata.name)}`);
  // Teleport's ValidateAccessRequest (reason, resource count) and RequestValidator.Validate
  // (resource ID length), plus our caps on reviewers and labels (src/model/limits.ts).
  const sizeProblem = requestSizeProblem({
    reason: spec.requestReason,
    resourceIds: spec.requestedResourceIds.map(resourceIdString),
    reviewers: spec.suggestedReviewers,
    labels: metadata.labels,
  });
  if (sizeProblem) throw badParameter(sizeProblem);
  spec.roles = dedupe(spec.roles.filter((r) => r !== ''));
  if (spec.roles.length === 0 && spec.requestedResourceIds.length === 0) {
    throw badParameter('access request does not specify any roles or resources');
  }

  const v = new RequestValidator(catalog, user);
  if (spec.roles.length === 1 && spec.roles[0] === '*') {
    const requestable = v.requestableRoles();
    if (requestable.length === 0)
      throw badParameter('no requestable roles, please verify static RBAC configuration');
    spec.roles = requestable;
  }

  const resourceRequest = spec.requestedResourceIds.length > 0;
  let resolved: ResolvedResources = { ids: [], resources: [] };
  if (resourceRequest) {
    resolved = resolveResources(catalog, user.name, spec.requestedResourceIds);
    spec.requestedResourceIds = resolved.ids;
  }

  // Teleport's order: the reason requirement first, then whether each role may be requested.
  if (spec.requestReason.trim() === '') {
    const roles = resourceRequest ? [...spec.roles, ...applicableSearchAsRoles(v, resolved)] : spec.roles;
    const why = v.reasonRequirement(roles);
    if (why) throw badParameter(v.prompt ? `${why}; prompt: ${v.prompt}` : why);
  }

  for (const role of spec.roles) {
    const allowed = resourceRequest ? v.canSearchAsRole(role) : v.canRequestRole(role);
    if (!allowed)
      throw badParameter(`user ${JSON.stringify(user.name)} can not request role ${JSON.stringify(role)}`);
    if (!catalog.roles.has(role)) throw notFound(`role ${JSON.stringify(role)} is not found`);
  }

  if (resourceRequest) {
    if (spec.roles.length === 0) {
      spec.roles = applicableSearchAsRoles(v, resolved);
    } else {
      const { good, allowed } = pruneByKubeKinds(v, resolved.ids, spec.roles);
      if (good.length !== spec.roles.length) throw kubeKindsError(allowed, true);
      rolesForResources(v, resolved, spec.roles, user.name);
    }
  }
  spec.roles = dedupe(spec.roles).sort();

  const { thresholds, rtm } = v.thresholds(spec.roles);
  spec.thresholds = thresholds;
  spec.roleThresholdMapping = rtm;
  spec.systemAnnotations = toLabelValues(v.systemAnnotations(spec.roles, resourceRequest));
  spec.suggestedReviewers = dedupe([
    ...spec.suggestedReviewers.filter((r) => r !== ''),
    ...v.suggestedReviewers,
  ]);

  setExpiries(catalog, v, actor, spec, metadata, now);
  // Only a dry run carries the enrichment; a client cannot store one.
  spec.dryRunEnrichment = spec.dryRun ? v.dryRunEnrichment(spec.roles) : undefined;

  // A request another user's `create` rule made in a resolved state keeps that state and its
  // resolution (auth_with_roles.go, CreateAccessRequestV2 lets it through; only pending is
  // forced on oneself).
  const pending = !spec.state || spec.state === RequestState.PENDING;
  spec.state = pending ? RequestState.PENDING : spec.state;
  spec.created = now;
  spec.reviews = [];
  if (pending) {
    spec.resolveReason = '';
    spec.resolveAnnotations = undefined;
  }
  req.kind = 'access_request';
  req.version = 'v3';
  if (metadata.namespace === '') metadata.namespace = 'default';
  return req;
}
