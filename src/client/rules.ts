/** Access Monitoring Rules on the wire ⇄ the model (`src/model/rule.ts`). */
import type { AccessMonitoringRule as RuleProto } from '../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules.js';
import { type AccessMonitoringRule, RULE_KIND } from '../model/rule.js';

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
