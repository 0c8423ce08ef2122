/**
 * `teleport.accessmonitoringrules.v1.AccessMonitoringRulesService` and the builtin automatic
 * review of RFD 0201. Authorization mirrors
 * lib/auth/accessmonitoringrules/accessmonitoringrulesv1/service.go (CheckAccessToKind on
 * `access_monitoring_rule`): create → create; update → update; upsert → create and update;
 * get → read; delete → delete; list and list-with-filter → read and list.
 */
import { status } from '@grpc/grpc-js';
import type {
  AccessMonitoringRule,
  ListAccessMonitoringRulesResponse,
  ListAccessMonitoringRulesWithFilterRequest,
} from '../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules.js';
import type { AccessRequestV3 } from '../gen/teleport/legacy/types/types.js';
import { RequestState } from '../gen/teleport/legacy/types/types.js';
import { MAX_CONDITION_LENGTH } from '../model/limits.js';
import {
  type AmrContext,
  ConditionError,
  compileCondition,
  resourceLabelMaps,
} from '../model/rule-condition.js';
import { scheduleAllows, scheduleProblem } from '../model/schedule.js';
import { requireRule } from './authz.js';
import { unary } from './grpc/handlers.js';
import { DEFAULT_PAGE } from './grpc/paging.js';
import type { AccessMonitoringRulesServiceServer } from './grpc-definitions.js';
import { fromLabelValues } from './requests/wire.js';
import type { ServiceDeps } from './service.js';
import type { RuleStore } from './storage/amr-store.js';
import { badParameter, type Caller, notFound, type Policy, ServerError, type Verb } from './types.js';

export const AMR_KIND = 'access_monitoring_rule';
/** api/types/constants.go: the subject kind of access requests. */
const ACCESS_REQUEST_SUBJECT = 'access_request';
/** api/types: AccessMonitoringRuleStateReviewed. */
export const DESIRED_STATE_REVIEWED = 'reviewed';
/** api/types: BuiltInAutomaticReview, the integration Teleport itself runs. */
export const BUILTIN_INTEGRATION = 'builtin';
/** constants.go: SystemAccessApproverUserName, the author of automatic reviews. */
export const AUTOMATIC_REVIEWER = '@teleport-access-approval-bot';
/** constants.go: SystemAutomaticAccessApprovalRoleName, the role of that user. */
export const AUTOMATIC_REVIEWER_ROLE = '@teleport-access-approver';

function checkAccessToKind(policy: Policy, caller: Caller, ...verbs: Verb[]): void {
  for (const verb of verbs) requireRule(policy, caller, verb, AMR_KIND);
}

/**
 * lib/services/access_monitoring_rules.go, ValidateAccessMonitoringRule, in its order: the
 * condition is parsed, and `desired_state` checked, only when the subjects include
 * `access_request`; such a rule needs a notification or an automatic review. Parse errors are the
 * parser's text (trace's tree, one message a line). Ours: a condition longer than
 * MAX_CONDITION_LENGTH is refused for any subject (Teleport has no cap; see limits.ts).
 */
export function validateRule(rule: AccessMonitoringRule | undefined): AccessMonitoringRule {
  const bad = (msg: string) => badParameter(msg);
  if (!rule) throw bad('access monitoring rule is missing');
  if (rule.kind !== AMR_KIND)
    throw bad(`invalid kind for access monitoring rule: ${JSON.stringify(rule.kind)}`);
  if (!rule.metadata) throw bad('accessMonitoringRule metadata is missing');
  if (!rule.metadata.name) throw bad('missing parameter Name');
  if (rule.version !== 'v1') {
    throw bad(`accessMonitoringRule version ${JSON.stringify(rule.version)} is not supported`);
  }
  const spec = rule.spec;
  if (!spec) throw bad('accessMonitoringRule spec is missing');
  if (spec.subjects.length === 0) throw bad('accessMonitoringRule subject is missing');
  if (spec.condition === '') throw bad('accessMonitoringRule condition is missing');
  if (spec.condition.length > MAX_CONDITION_LENGTH) {
    throw bad(
      `accessMonitoringRule condition is invalid: condition is ${spec.condition.length} characters long, more than the ${MAX_CONDITION_LENGTH} allowed`,
    );
  }
  const scheduleError = scheduleProblem(spec.schedules);
  if (scheduleError) throw bad(`validating spec.schedules: ${scheduleError}`);
  if (spec.notification && spec.notification.name === '') {
    throw bad('accessMonitoringRule notification plugin name is missing');
  }
  const review = spec.automaticReview;
  if (review) {
    if (review.integration === '') throw bad('accessMonitoringRule automatic_review integration is missing');
    if (review.decision === '') throw bad('accessMonitoringRule automatic_review decision is missing');
    if (review.decision !== 'APPROVED' && review.decision !== 'DENIED') {
      throw bad(
        `accessMonitoringRule automatic_review decision ${JSON.stringify(review.decision)} is not supported`,
      );
    }
  }
  if (spec.subjects.includes(ACCESS_REQUEST_SUBJECT)) {
    try {
      compileCondition(spec.condition);
    } catch (err) {
      if (err instanceof ConditionError)
        throw bad(`accessMonitoringRule condition is invalid: ${err.teleportText}`);
      throw err;
    }
    if (spec.desiredState !== '' && spec.desiredState !== DESIRED_STATE_REVIEWED) {
      throw bad(`accessMonitoringRule desired_state ${JSON.stringify(spec.desiredState)} is not supported`);
    }
    if (!spec.notification && !review) {
      throw bad(
        `one of notification or automatic_review must be configured if subjects contain "${ACCESS_REQUEST_SUBJECT}"`,
      );
    }
  }
  return rule;
}

function stored(rule: AccessMonitoringRule): AccessMonitoringRule {
  return {
    ...rule,
    metadata: { ...rule.metadata!, namespace: rule.metadata!.namespace || 'default' },
  };
}

function page(
  rules: AccessMonitoringRule[],
  pageSize: number,
  pageToken: string,
): ListAccessMonitoringRulesResponse {
  const size = pageSize > 0 ? pageSize : DEFAULT_PAGE;
  const from = pageToken ? rules.findIndex((r) => r.metadata!.name >= pageToken) : 0;
  const start = from < 0 ? rules.length : from;
  const items = rules.slice(start, start + size);
  const next = rules[start + size];
  return { rules: items, nextPageToken: next ? next.metadata!.name : '' };
}

/**
 * ListAccessMonitoringRulesWithFilter's filter (lib/services/access_monitoring_rules.go,
 * MatchAccessMonitoringRule): the rule must hold every requested subject.
 */
function matchesFilter(rule: AccessMonitoringRule, req: ListAccessMonitoringRulesWithFilterRequest): boolean {
  const spec = rule.spec;
  if (!spec) return false;
  if (!req.subjects.every((s) => spec.subjects.includes(s))) return false;
  if (req.notificationName && spec.notification?.name !== req.notificationName) return false;
  if (req.automaticReviewName && spec.automaticReview?.integration !== req.automaticReviewName) return false;
  return true;
}

/** Builds the service handlers over the rule store. */
export function createAmrService(
  deps: ServiceDeps & { rules: RuleStore },
): AccessMonitoringRulesServiceServer {
  const { policy, rules } = deps;
  const ruleNotFound = (name: string) => notFound(`access_monitoring_rule "${name}" doesn't exist`);
  return {
    createAccessMonitoringRule: unary(deps, async (req, caller) => {
      checkAccessToKind(policy, caller, 'create');
      const rule = stored(validateRule(req.rule));
      const name = rule.metadata!.name;
      const commit = await rules.mutate(name, (current) => {
        if (current)
          throw new ServerError(status.ALREADY_EXISTS, `access_monitoring_rule "${name}" already exists`);
        return rule;
      });
      return commit!.rule!;
    }),
    updateAccessMonitoringRule: unary(deps, async (req, caller) => {
      checkAccessToKind(policy, caller, 'update');
      const rule = stored(validateRule(req.rule));
      const name = rule.metadata!.name;
      const commit = await rules.mutate(name, (current) => {
        if (!current) throw ruleNotFound(name);
        return rule;
      });
      return commit!.rule!;
    }),
    upsertAccessMonitoringRule: unary(deps, async (req, caller) => {
      checkAccessToKind(policy, caller, 'create', 'update');
      const rule = stored(validateRule(req.rule));
      const commit = await rules.mutate(rule.metadata!.name, () => rule);
      return commit!.rule!;
    }),
    getAccessMonitoringRule: unary(deps, (req, caller) => {
      checkAccessToKind(policy, caller, 'read');
      const rule = rules.get(req.name);
      if (!rule) throw ruleNotFound(req.name);
      return rule;
    }),
    deleteAccessMonitoringRule: unary(deps, async (req, caller) => {
      checkAccessToKind(policy, caller, 'delete');
      await rules.mutate(req.name, (current) => {
        if (!current) throw ruleNotFound(req.name);
        return null;
      });
      return {};
    }),
    listAccessMonitoringRules: unary(deps, (req, caller) => {
      checkAccessToKind(policy, caller, 'read', 'list');
      return page(rules.list(), req.pageSize, req.pageToken);
    }),
    listAccessMonitoringRulesWithFilter: unary(deps, (req, caller) => {
      checkAccessToKind(policy, caller, 'read', 'list');
      return page(
        rules.list().filter((r) => matchesFilter(r, req)),
        req.pageSize,
        req.pageToken,
      );
    }),
  };
}

/** The condition context of a request, with its user's traits and its resources' labels. */
export function conditionContext(policy: Policy, req: AccessRequestV3): AmrContext {
  const spec = req.spec!;
  const labels = resourceLabelMaps(policy.resourceLabels(spec.requestedResourceIds));
  return {
    roles: spec.roles,
    suggestedReviewers: spec.suggestedReviewers,
    systemAnnotations: fromLabelValues(spec.systemAnnotations),
    user: spec.user,
    reason: spec.requestReason,
    // review.go getAccessRequestExpressionEnv: GetCreationTime() and Expiry() (the resource's expiry).
    created: spec.created,
    expires: req.metadata?.expires,
    labelsIntersection: labels.intersection,
    labelsUnion: labels.union,
    traits: policy.user(spec.user)?.traits ?? {},
  };
}

/**
 * The rule whose automatic review applies to a new request, as
 * lib/accessmonitoring/review/review.go (getMatchingRule) picks it: rules with
 * desired_state `reviewed`, the builtin integration and the access_request subject that
 * lib/accessmonitoring EvaluateRules keeps — the request's creation time `created` inside one of
 * the rule's schedules (if it has any), then its condition true; a DENIED rule wins, else the
 * first (by name) APPROVED one.
 */
export function matchingReviewRule(
  all: readonly AccessMonitoringRule[],
  ctx: AmrContext,
  created: Date,
  warn: (message: string) => void = () => {},
): AccessMonitoringRule | undefined {
  let found: AccessMonitoringRule | undefined;
  for (const rule of all) {
    const spec = rule.spec;
    if (!spec || spec.desiredState !== DESIRED_STATE_REVIEWED) continue;
    if (spec.automaticReview?.integration !== BUILTIN_INTEGRATION) continue;
    if (!spec.subjects.includes(ACCESS_REQUEST_SUBJECT)) continue;
    const name = rule.metadata?.name ?? '';
    const skip = (why: string) => warn(`access_monitoring_rule "${name}" skipped: schedules: ${why}`);
    if (!scheduleAllows(spec.schedules, created, skip)) continue;
    let matched: boolean;
    try {
      matched = compileCondition(spec.condition).evaluate(ctx);
    } catch (err) {
      // review.go getMatchingRule: a rule that fails to evaluate is logged and skipped.
      if (!(err instanceof ConditionError)) throw err;
      warn(`Failed to evaluate access monitoring rule "${name}": ${err.message}`);
      matched = false;
    }
    if (!matched) continue;
    if (spec.automaticReview.decision === 'DENIED') return rule;
    found ??= rule;
  }
  return found;
}

/**
 * Submits the builtin automatic review of a pending request, if a rule asks for one, under
 * Teleport's bot author and with its reason text (review.go, onPendingRequest and
 * newAccessReview). Thresholds apply as for any review. A failure is logged: the request itself
 * was already created. The access monitor (access-monitor.ts) calls it for each PUT event.
 */
export async function automaticReview(
  deps: Pick<ServiceDeps, 'policy' | 'store' | 'now' | 'log'> & { rules: RuleStore },
  req: AccessRequestV3,
): Promise<void> {
  if (req.spec?.state !== RequestState.PENDING) return;
  // review.go builds its env from the request (creation time included), not the clock.
  const created = req.spec.created ?? deps.now();
  const rule = matchingReviewRule(deps.rules.list(), conditionContext(deps.policy, req), created, deps.log);
  if (!rule) return;
  const decision = rule.spec!.automaticReview!.decision;
  const id = req.metadata!.name;
  const bot: Caller = {
    user: AUTOMATIC_REVIEWER,
    roles: [AUTOMATIC_REVIEWER_ROLE],
    traits: {},
    activeRequests: [],
    allowedResourceIds: [],
    expires: new Date(8.64e15),
  };
  const verb = decision.toLowerCase();
  const reason =
    `Access request has been automatically ${verb} by ${JSON.stringify(AUTOMATIC_REVIEWER)}. ` +
    `User ${JSON.stringify(req.spec.user)} is ${verb} by access_monitoring_rule ${JSON.stringify(rule.metadata!.name)}.`;
  const now = deps.now();
  try {
    await deps.store.mutate(id, (current) => {
      if (!current || current.spec?.state !== RequestState.PENDING) return undefined;
      // review.go isAlreadyReviewedError: every PUT of a pending request passes the handler
      // again (the bot's own review among them); a second review by the bot is not submitted.
      if (current.spec.reviews.some((r) => r.author === AUTOMATIC_REVIEWER)) return undefined;
      const value = deps.policy.applyReview(
        bot,
        current,
        {
          author: AUTOMATIC_REVIEWER,
          roles: [],
          proposedState: decision === 'DENIED' ? RequestState.DENIED : RequestState.APPROVED,
          reason,
          created: now,
          annotations: undefined,
          thresholdIndexes: [],
          accessList: undefined,
          assumeStartTime: undefined,
        },
        now,
      );
      return { op: 'put', value };
    });
    deps.log(`access request ${id} automatically ${verb} by access_monitoring_rule "${rule.metadata!.name}"`);
  } catch (err) {
    deps.log(`automatic review of access request ${id} failed: ${(err as Error).message}`);
  }
}
