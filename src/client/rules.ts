/** Access Monitoring Rules on the wire ⇄ the model (`src/model/rule.ts`), and their RPCs. */
import type { AccessMonitoringRule as RuleProto } from '../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules.js';
import { AccessMonitoringRulesServiceDefinition } from '../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules_service.js';
import { type AccessMonitoringRule, RULE_KIND } from '../model/rule.js';
import type { Connection } from './connect.js';
import type { CallOptions } from './rpc.js';

/** The Access Monitoring Rules service on the connection's channel. */
const amr = (conn: Connection) => conn.service(AccessMonitoringRulesServiceDefinition);

export function ruleFromProto(p: RuleProto): AccessMonitoringRule {
  const spec = p.spec;
  const rule: AccessMonitoringRule = {
    kind: RULE_KIND,
    version: 'v1',
    metadata: { name: p.metadata?.name ?? '' },
    spec: { subjects: spec?.subjects ?? [], condition: spec?.condition ?? '' },
  };
  if (p.metadata?.description) rule.metadata.description = p.metadata.description;
  if (p.metadata && Object.keys(p.metadata.labels).length > 0)
    rule.metadata.labels = { ...p.metadata.labels };
  if (p.metadata?.revision) rule.metadata.revision = p.metadata.revision;
  if (spec?.states.length) rule.spec.states = spec.states;
  if (spec?.desiredState) rule.spec.desired_state = spec.desiredState;
  if (spec?.notification) rule.spec.notification = { ...spec.notification };
  if (spec?.automaticReview) rule.spec.automatic_review = { ...spec.automaticReview };
  if (spec && Object.keys(spec.schedules).length > 0) {
    rule.spec.schedules = Object.fromEntries(
      Object.entries(spec.schedules).map(([name, s]) => [
        name,
        s.time ? { time: { timezone: s.time.timezone, shifts: s.time.shifts.map((x) => ({ ...x })) } } : {},
      ]),
    );
  }
  return rule;
}

export function ruleToProto(r: AccessMonitoringRule): RuleProto {
  return {
    kind: r.kind,
    subKind: '',
    version: r.version,
    metadata: {
      name: r.metadata.name,
      namespace: '',
      description: r.metadata.description ?? '',
      labels: r.metadata.labels ?? {},
      expires: undefined,
      revision: r.metadata.revision ?? '',
    },
    spec: {
      subjects: r.spec.subjects,
      states: r.spec.states ?? [],
      condition: r.spec.condition,
      notification: r.spec.notification,
      automaticReview: r.spec.automatic_review,
      desiredState: r.spec.desired_state ?? '',
      schedules: Object.fromEntries(
        Object.entries(r.spec.schedules ?? {}).map(([name, s]) => [
          name,
          { time: s.time ? { timezone: s.time.timezone, shifts: s.time.shifts } : undefined },
        ]),
      ),
    },
  };
}

/** Every rule, page by page. */
export async function listRules(conn: Connection, call: CallOptions = {}): Promise<AccessMonitoringRule[]> {
  const out: AccessMonitoringRule[] = [];
  let pageToken = '';
  do {
    const page = await amr(conn).listAccessMonitoringRules({ pageSize: 500, pageToken }, call);
    out.push(...page.rules.map(ruleFromProto));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

/** The access_request rules whose notification names `plugin`, page by page. */
export async function notificationRules(
  conn: Connection,
  plugin: string,
  call: CallOptions = {},
): Promise<AccessMonitoringRule[]> {
  const out: AccessMonitoringRule[] = [];
  let pageToken = '';
  do {
    const page = await amr(conn).listAccessMonitoringRulesWithFilter(
      {
        pageSize: 500,
        pageToken,
        subjects: ['access_request'],
        notificationName: plugin,
        automaticReviewName: '',
      },
      call,
    );
    out.push(...page.rules.map(ruleFromProto));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

/** One rule by name; NotFound when there is none. */
export async function getRule(
  conn: Connection,
  name: string,
  call: CallOptions = {},
): Promise<AccessMonitoringRule> {
  return ruleFromProto(await amr(conn).getAccessMonitoringRule({ name }, call));
}

/** Creates a rule (AlreadyExists when one has its name) and returns it as stored. */
export async function createRule(
  conn: Connection,
  rule: AccessMonitoringRule,
  call: CallOptions = {},
): Promise<AccessMonitoringRule> {
  return ruleFromProto(await amr(conn).createAccessMonitoringRule({ rule: ruleToProto(rule) }, call));
}

/** Replaces an existing rule (NotFound when there is none) and returns it as stored. */
export async function updateRule(
  conn: Connection,
  rule: AccessMonitoringRule,
  call: CallOptions = {},
): Promise<AccessMonitoringRule> {
  return ruleFromProto(await amr(conn).updateAccessMonitoringRule({ rule: ruleToProto(rule) }, call));
}

/** Deletes a rule by name; NotFound when there is none. */
export async function deleteRule(conn: Connection, name: string, call: CallOptions = {}): Promise<void> {
  await amr(conn).deleteAccessMonitoringRule({ name }, call);
}
