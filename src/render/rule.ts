/** Text rendering of Access Monitoring Rules; server-sent text is printed escaped. */
import type { AccessMonitoringRule } from '../model/rule.js';
import type { TableOptions } from './table.js';

/** Control characters (terminal escapes) from the server are shown as `\uXXXX`, never raw. */
export function printable(s: string): string {
  return s.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `office-hours (Asia/Tokyo): Monday 09:00-17:00, Tuesday 09:00-17:00` per schedule, by name. */
export function scheduleLines(r: AccessMonitoringRule): string[] {
  return Object.keys(r.spec.schedules ?? {})
    .sort()
    .map((name) => {
      const time = r.spec.schedules![name]!.time;
      const shifts = (time?.shifts ?? []).map((s) => `${s.weekday} ${s.start}-${s.end}`).join(', ');
      return printable(`${name} (${time?.timezone || 'UTC'}): ${shifts || '-'}`);
    });
}

/**
 * What a rule does, in one phrase: `notify slack: #dba` / `review: APPROVED (builtin)`,
 * plus `only in schedules: a, b` when schedules limit it.
 */
export function ruleAction(r: AccessMonitoringRule): string {
  const parts: string[] = [];
  if (r.spec.notification) {
    parts.push(`notify ${r.spec.notification.name}: ${r.spec.notification.recipients.join(', ') || '-'}`);
  }
  if (r.spec.automatic_review && r.spec.desired_state === 'reviewed') {
    parts.push(`review ${r.spec.automatic_review.decision} (${r.spec.automatic_review.integration})`);
  }
  const schedules = Object.keys(r.spec.schedules ?? {}).sort();
  if (schedules.length > 0) parts.push(`only in schedules: ${schedules.join(', ')}`);
  return printable(parts.join('; ') || '-');
}

export const RULE_COLUMNS = ['Name', 'Subjects', 'Action', 'Condition'] as const;

/** On a narrow terminal: the name and what the rule does first; the condition wraps. */
export const RULE_TABLE: TableOptions = { priority: [0, 2, 1, 3], required: 2, wrap: 3, lists: [1] };

export function ruleRow(r: AccessMonitoringRule): string[] {
  return [
    printable(r.metadata.name),
    printable(r.spec.subjects.join(',')),
    ruleAction(r),
    printable(r.spec.condition),
  ];
}

export function ruleDetail(r: AccessMonitoringRule): string {
  const lines = [
    `Name:       ${printable(r.metadata.name)}`,
    `Subjects:   ${printable(r.spec.subjects.join(', '))}`,
    `Condition:  ${printable(r.spec.condition)}`,
  ];
  if (r.spec.states?.length) lines.push(`States:     ${printable(r.spec.states.join(', '))}`);
  if (r.spec.notification) {
    lines.push(
      `Notify:     ${printable(r.spec.notification.name)} → ${printable(r.spec.notification.recipients.join(', ') || '-')}`,
    );
  }
  if (r.spec.automatic_review) {
    lines.push(
      `Review:     ${printable(r.spec.automatic_review.decision)} by ${printable(r.spec.automatic_review.integration)}` +
        (r.spec.desired_state === 'reviewed' ? '' : ' (inactive: desired_state is not "reviewed")'),
    );
  }
  for (const [i, line] of scheduleLines(r).entries())
    lines.push(`${i === 0 ? 'Schedules:' : '          '}  ${line}`);
  if (r.metadata.description) lines.push(`About:      ${printable(r.metadata.description)}`);
  return `${lines.join('\n')}\n`;
}
