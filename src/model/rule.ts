/**
 * Access Monitoring Rules as `access rule` shows and reads them: Teleport's resource format
 * (`kind: access_monitoring_rule`, `version: v1`, `metadata`, `spec`), the same shape
 * `tctl get` prints and `tctl create` takes, so a file moves between the two unchanged.
 */
import { UsageError } from './errors.js';

export const RULE_KIND = 'access_monitoring_rule';

export interface RuleNotification {
  name: string;
  recipients: string[];
}

export interface RuleAutomaticReview {
  integration: string;
  decision: string;
}

export interface RuleShift {
  weekday: string;
  start: string;
  end: string;
}

/** One named schedule: `time: {timezone, shifts: [{weekday, start, end}]}`. */
export interface RuleSchedule {
  time?: { timezone: string; shifts: RuleShift[] };
}

export interface AccessMonitoringRule {
  kind: typeof RULE_KIND;
  version: 'v1';
  metadata: { name: string; description?: string; labels?: Record<string, string>; revision?: string };
  spec: {
    subjects: string[];
    states?: string[];
    condition: string;
    desired_state?: string;
    notification?: RuleNotification;
    automatic_review?: RuleAutomaticReview;
    schedules?: Record<string, RuleSchedule>;
  };
}

const TOP = ['kind', 'version', 'metadata', 'spec'];
const META = ['name', 'description', 'labels', 'revision', 'namespace', 'expires'];
const SPEC = [
  'subjects',
  'states',
  'condition',
  'desired_state',
  'notification',
  'automatic_review',
  'schedules',
];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new UsageError(`${where} must be a list of strings`);
  return v as string[];
}

function str(v: unknown, where: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new UsageError(`${where} must be a string`);
  return v;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], where: string): void {
  const extra = Object.keys(o).find((k) => !allowed.includes(k));
  if (extra !== undefined)
    throw new UsageError(`unknown field "${extra}" in ${where} (expected one of ${allowed.join(', ')})`);
}

/**
 * Checks one parsed YAML document and returns the rule; `where` names it in messages
 * (e.g. `rules.yaml, document 2`). Server-side checks (the condition, the verbs) stay with the server.
 */
export function ruleFromDocument(doc: unknown, where: string): AccessMonitoringRule {
  if (!isObject(doc)) throw new UsageError(`${where}: expected a resource (kind, version, metadata, spec)`);
  onlyKeys(doc, TOP, where);
  if (doc.kind !== RULE_KIND) {
    throw new UsageError(`${where}: kind is ${JSON.stringify(doc.kind ?? '')}, expected "${RULE_KIND}"`);
  }
  if (doc.version !== 'v1')
    throw new UsageError(`${where}: version is ${JSON.stringify(doc.version ?? '')}, expected "v1"`);
  if (!isObject(doc.metadata)) throw new UsageError(`${where}: metadata.name is missing`);
  onlyKeys(doc.metadata, META, `${where} metadata`);
  const name = str(doc.metadata.name, `${where}: metadata.name`);
  if (name === '') throw new UsageError(`${where}: metadata.name is missing`);
  if (!isObject(doc.spec)) throw new UsageError(`${where}: spec is missing`);
  const spec = doc.spec;
  onlyKeys(spec, SPEC, `${where} spec`);
  const rule: AccessMonitoringRule = {
    kind: RULE_KIND,
    version: 'v1',
    metadata: { name },
    spec: {
      subjects: strings(spec.subjects, `${where}: spec.subjects`),
      condition: str(spec.condition, `${where}: spec.condition`),
    },
  };
  const description = str(doc.metadata.description, `${where}: metadata.description`);
  if (description) rule.metadata.description = description;
  if (isObject(doc.metadata.labels)) {
    rule.metadata.labels = Object.fromEntries(
      Object.entries(doc.metadata.labels).map(([k, v]) => [k, str(v, `${where}: metadata.labels.${k}`)]),
    );
  }
  const states = strings(spec.states, `${where}: spec.states`);
  if (states.length > 0) rule.spec.states = states;
  const desired = str(spec.desired_state, `${where}: spec.desired_state`);
  if (desired) rule.spec.desired_state = desired;
  if (spec.notification !== undefined && spec.notification !== null) {
    if (!isObject(spec.notification)) throw new UsageError(`${where}: spec.notification must be a mapping`);
    onlyKeys(spec.notification, ['name', 'recipients'], `${where} spec.notification`);
    rule.spec.notification = {
      name: str(spec.notification.name, `${where}: spec.notification.name`),
      recipients: strings(spec.notification.recipients, `${where}: spec.notification.recipients`),
    };
  }
  if (spec.automatic_review !== undefined && spec.automatic_review !== null) {
    if (!isObject(spec.automatic_review))
      throw new UsageError(`${where}: spec.automatic_review must be a mapping`);
    onlyKeys(spec.automatic_review, ['integration', 'decision'], `${where} spec.automatic_review`);
    rule.spec.automatic_review = {
      integration: str(spec.automatic_review.integration, `${where}: spec.automatic_review.integration`),
      decision: str(spec.automatic_review.decision, `${where}: spec.automatic_review.decision`),
    };
  }
  if (spec.schedules !== undefined && spec.schedules !== null) {
    rule.spec.schedules = schedulesFromDocument(spec.schedules, where);
  }
  return rule;
}

/**
 * `spec.schedules`: a mapping of names to `{time: {timezone, shifts: [{weekday, start, end}]}}`.
 * Only the shape is checked here; weekdays and clock times are the server's to judge.
 */
function schedulesFromDocument(v: unknown, where: string): Record<string, RuleSchedule> {
  if (!isObject(v)) throw new UsageError(`${where}: spec.schedules must be a mapping of names to schedules`);
  const out: Record<string, RuleSchedule> = {};
  for (const [name, schedule] of Object.entries(v)) {
    const at = `${where}: spec.schedules.${name}`;
    if (!isObject(schedule)) throw new UsageError(`${at} must be a mapping (time: ...)`);
    onlyKeys(schedule, ['time'], at);
    if (schedule.time === undefined || schedule.time === null) {
      out[name] = {};
      continue;
    }
    if (!isObject(schedule.time)) throw new UsageError(`${at}.time must be a mapping (timezone, shifts)`);
    onlyKeys(schedule.time, ['timezone', 'shifts'], `${at}.time`);
    const shifts = schedule.time.shifts ?? [];
    if (!Array.isArray(shifts)) throw new UsageError(`${at}.time.shifts must be a list`);
    out[name] = {
      time: {
        timezone: str(schedule.time.timezone, `${at}.time.timezone`),
        shifts: shifts.map((shift, i) => {
          const sw = `${at}.time.shifts[${i}]`;
          if (!isObject(shift)) throw new UsageError(`${sw} must be a mapping (weekday, start, end)`);
          onlyKeys(shift, ['weekday', 'start', 'end'], sw);
          return {
            weekday: str(shift.weekday, `${sw}.weekday`),
            start: str(shift.start, `${sw}.start`),
            end: str(shift.end, `${sw}.end`),
          };
        }),
      },
    };
  }
  return out;
}

/** Every rule of a YAML file (several `---` documents allowed); empty documents are skipped. */
export async function rulesFromYaml(text: string, file: string): Promise<AccessMonitoringRule[]> {
  // yaml is CommonJS: its chunk in the bundle has every name Node's import gives (scripts/bundle.mjs).
  const { parseAllDocuments } = await import('yaml');
  const out: AccessMonitoringRule[] = [];
  const docs = parseAllDocuments(text);
  for (const [i, doc] of docs.entries()) {
    const where = `${file}, document ${i + 1}`;
    if (doc.errors.length > 0) throw new UsageError(`${where}: ${doc.errors[0].message.split('\n')[0]}`);
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    out.push(ruleFromDocument(value, where));
  }
  if (out.length === 0) throw new UsageError(`${file} holds no access_monitoring_rule`);
  return out;
}
