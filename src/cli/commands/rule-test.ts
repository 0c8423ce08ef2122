import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../model/errors.js';
import type { AccessRequest } from '../../model/request.js';
import type { AccessMonitoringRule } from '../../model/rule.js';
import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { readInputFile, readRuleFile } from './rule-create.js';
import { fetchRule } from './rule-show.js';
import { emit, fetchRequest } from './shared.js';

export interface RuleTestOptions {
  /** A stored rule's name, or undefined with `file`. */
  name?: string;
  file?: string;
  requestId?: string;
  requestFile?: string;
}

/** One rule's verdict on one request. */
export interface RuleVerdict {
  rule: string;
  request: string;
  matched: boolean;
  /** Why the condition could not be evaluated (the rule then does not apply, as in Teleport). */
  error?: string;
  /** The top-level `&&` parts of the condition that were false. */
  failed: string[];
  notification: { name: string; recipients: string[] } | null;
  automatic_review: { integration: string; decision: string } | null;
  /**
   * Whether the rule's schedules are in effect at `at` (now): a rule with schedules applies only to
   * requests created inside one. Null when the rule has none.
   */
  schedule: { in_effect: boolean; at: string; error?: string } | null;
}

export function define() {
  return new Command('test')
    .description(
      'Evaluate Access Monitoring Rules against a request and say whether each matches, what it would ' +
        'do (notify whom, review how), which part of its condition failed, and whether its schedules ' +
        '(if any) are in effect now. The request is a stored one (--request ID) or a file in our JSON ' +
        'request shape (--request-file), which may add "user_traits" and "resource_labels" (a list of ' +
        'label maps): the client cannot read those itself.',
    )
    .argument('[name]', 'a stored rule (or -f FILE)')
    .option('-f, --file <path>', 'rules from a YAML file instead of the server')
    .option('--request <id>', 'a stored access request')
    .option('--request-file <path>', 'an access request in our JSON shape');
}

export function parse([given]: ArgsOf<typeof define>, flags: FlagsOf<typeof define>): RuleTestOptions {
  const name = given === '' ? undefined : given;
  const { file, request: requestId, requestFile } = flags;
  if ((name === undefined) === (file === undefined)) {
    throw new UsageError('name one rule, or give -f FILE (not both)', 'access rule test NAME --request ID');
  }
  if ((requestId === undefined) === (requestFile === undefined)) {
    throw new UsageError('give exactly one of --request ID and --request-file FILE');
  }
  return { name, file, requestId, requestFile };
}

interface Extras {
  traits: Record<string, string[]>;
  labels: Record<string, string>[];
}

function isStringMap(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string')
  );
}

async function requestFromFile(path: string): Promise<{ req: AccessRequest; extras: Extras }> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readInputFile(path));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${path}: not JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new UsageError(`${path}: expected a request object`);
  const o = doc as Record<string, unknown>;
  const list = (k: string): string[] => {
    const v = o[k] ?? [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      throw new UsageError(`${path}: "${k}" must be a list of strings`);
    return v as string[];
  };
  const text = (k: string): string => {
    const v = o[k] ?? '';
    if (typeof v !== 'string') throw new UsageError(`${path}: "${k}" must be a string`);
    return v;
  };
  const mapOfLists = (k: string): Record<string, string[]> => {
    const v = o[k] ?? {};
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new UsageError(`${path}: "${k}" must be a map of lists`);
    for (const [key, vals] of Object.entries(v)) {
      if (!Array.isArray(vals) || vals.some((x) => typeof x !== 'string'))
        throw new UsageError(`${path}: "${k}.${key}" must be a list of strings`);
    }
    return v as Record<string, string[]>;
  };
  const labels = o.resource_labels ?? [];
  if (!Array.isArray(labels) || !labels.every(isStringMap)) {
    throw new UsageError(`${path}: "resource_labels" must be a list of label maps`);
  }
  const time = (k: string): string | null => {
    const v = text(k);
    if (v !== '' && Number.isNaN(Date.parse(v)))
      throw new UsageError(`${path}: "${k}" must be an RFC 3339 time`);
    return v || null;
  };
  const req = {
    id: text('id') || path,
    created: time('created'),
    expires: time('expires'),
    user: text('user'),
    roles: list('roles'),
    suggested_reviewers: list('suggested_reviewers'),
    reason: text('reason'),
    system_annotations: mapOfLists('system_annotations'),
  } as unknown as AccessRequest;
  return { req, extras: { traits: mapOfLists('user_traits'), labels } };
}

export async function run(ctx: Context, opts: RuleTestOptions): Promise<number> {
  const rules: AccessMonitoringRule[] = opts.file
    ? await readRuleFile(opts.file)
    : [await fetchRule(ctx, opts.name!)];
  let req: AccessRequest;
  let extras: Extras = { traits: {}, labels: [] };
  if (opts.requestFile) {
    ({ req, extras } = await requestFromFile(opts.requestFile));
  } else {
    req = await fetchRequest(ctx, await ctx.connect(), opts.requestId!);
    ctx.io.stderr.write(
      'note: user.traits and resource labels are not readable by the client; they are empty here (use --request-file to supply them)\n',
    );
  }
  const { ConditionError, compileCondition, requestContext } = await import('../../model/rule-condition.js');
  const { scheduleAllows } = await import('../../model/schedule.js');
  const now = ctx.now();
  const condCtx = requestContext(req, extras);
  const verdicts: RuleVerdict[] = rules.map((rule) => {
    let cond: ReturnType<typeof compileCondition>;
    try {
      cond = compileCondition(rule.spec.condition);
    } catch (err) {
      if (err instanceof ConditionError) {
        throw new UsageError(`rule "${rule.metadata.name}": condition: ${err.message}`);
      }
      throw err;
    }
    let evalError: string | undefined;
    let matched = false;
    try {
      matched = cond.evaluate(condCtx);
    } catch (err) {
      if (!(err instanceof ConditionError)) throw err;
      // Teleport's handlers skip a rule whose condition fails to evaluate.
      evalError = err.message;
    }
    let schedule: RuleVerdict['schedule'] = null;
    if (Object.keys(rule.spec.schedules ?? {}).length > 0) {
      let error: string | undefined;
      const inEffect = scheduleAllows(rule.spec.schedules, now, (m) => {
        error = m;
      });
      schedule = { in_effect: inEffect, at: now.toISOString(), ...(error ? { error } : {}) };
    }
    return {
      rule: rule.metadata.name,
      request: req.id,
      matched,
      ...(evalError ? { error: evalError } : {}),
      failed: matched ? [] : cond.failedParts(condCtx),
      notification: rule.spec.notification ?? null,
      automatic_review:
        rule.spec.desired_state === 'reviewed' && rule.spec.automatic_review
          ? rule.spec.automatic_review
          : null,
      schedule,
    };
  });
  const { printable } = await import('../../render/rule.js');
  await emit(ctx, verdicts, () => {
    for (const v of verdicts) {
      const lines = [`${printable(v.rule)}: ${v.matched ? 'matched' : 'not matched'}`];
      if (v.matched && v.notification) {
        lines.push(
          `  notify ${printable(v.notification.name)}: ${printable(v.notification.recipients.join(', ') || '-')}`,
        );
      }
      if (v.matched && v.automatic_review) {
        lines.push(
          `  review ${printable(v.automatic_review.decision)} (${printable(v.automatic_review.integration)})`,
        );
      }
      if (v.error) lines.push(`  error: ${printable(v.error)}`);
      for (const part of v.failed) lines.push(`  failed: ${printable(part)}`);
      if (v.schedule) {
        const why = v.schedule.error ? ` (${printable(v.schedule.error)}: the rule is skipped)` : '';
        lines.push(
          `  schedules: ${v.schedule.in_effect ? 'in effect' : 'not in effect'} now (${v.schedule.at})${why}; ` +
            'the rule applies only to requests created inside one',
        );
      }
      ctx.io.stdout.write(`${lines.join('\n')}\n`);
    }
  });
  return 0;
}
