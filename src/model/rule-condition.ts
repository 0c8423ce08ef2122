/**
 * The condition language of Access Monitoring Rules: Teleport's typed expression parser
 * (lib/expression/parser.go DefaultParserSpec over lib/utils/typical) with the variables and
 * functions of lib/accessmonitoring/request_mapping.go (newRequestConditionParser).
 * Parse errors and evaluation errors carry Teleport's texts.
 */
import { defaultFunctions, defaultMethods } from './expression/functions.js';
import type { GoNode } from './expression/go-syntax.js';
import { type Built, mapVariable, type TypedFunction, TypedParser, variable } from './expression/typical.js';
import { ExprDict, ExprSet, GoTime, TraceError, ZERO_TIME } from './expression/values.js';
import { MAX_CONDITION_LENGTH } from './limits.js';
import type { AccessRequest } from './request.js';

/** What a condition sees of an access request (AccessRequestExpressionEnv). */
export interface AmrContext {
  roles: readonly string[];
  suggestedReviewers: readonly string[];
  systemAnnotations: Readonly<Record<string, readonly string[]>>;
  user: string;
  reason: string;
  /** The request's creation time and expiry; Go's zero time when unknown. */
  created?: Date;
  expires?: Date;
  /** Labels common to every requested resource (key → values present on all). */
  labelsIntersection: Readonly<Record<string, readonly string[]>>;
  /** Labels of any requested resource (key → every value seen). */
  labelsUnion: Readonly<Record<string, readonly string[]>>;
  traits: Readonly<Record<string, readonly string[]>>;
  /** The IANA time zone of clock_between; UTC when unset. */
  timezone?: string;
}

/** A condition that does not parse, or (from `evaluate`) one whose evaluation failed. */
export class ConditionError extends Error {
  override readonly name = 'ConditionError';
  constructor(readonly trace: TraceError) {
    super(trace.message);
  }
  /** Teleport's `err.Error()`: one message a line, the cause last. */
  get teleportText(): string {
    return this.trace.teleportText;
  }
}

/**
 * The context of a request as the client sees it: traits and resource labels are not readable
 * there, so they are `extras` (empty unless supplied).
 */
export function requestContext(
  req: AccessRequest,
  extras: { traits?: AmrContext['traits']; labels?: readonly Readonly<Record<string, string>>[] } = {},
): AmrContext {
  const labels = resourceLabelMaps(extras.labels ?? []);
  const date = (s: string | null | undefined) => (s ? new Date(s) : undefined);
  return {
    roles: req.roles,
    suggestedReviewers: req.suggested_reviewers ?? [],
    systemAnnotations: req.system_annotations ?? {},
    user: req.user,
    reason: req.reason,
    created: date(req.created),
    expires: date(req.expires),
    labelsIntersection: labels.intersection,
    labelsUnion: labels.union,
    traits: extras.traits ?? {},
  };
}

const time = (d: Date | undefined) => (d ? new GoTime(d.getTime()) : ZERO_TIME);

/** The wall clock of `t` in `tz` (request_mapping.go converts with time.In). */
function inZone(t: GoTime, tz: string | undefined): Date {
  if (!tz || tz === 'UTC') return new Date(t.ms);
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }).formatToParts(new Date(t.ms));
  } catch {
    throw new TraceError(`unknown time zone ${tz}`).wrap(`failed to load time locale: ${JSON.stringify(tz)}`);
  }
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return new Date(
    Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')),
  );
}

/** request_mapping.go clockTime: "15:04" on the day of `wall`. */
function clockTime(wall: Date, hhmm: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m)
    throw new TraceError(
      `parsing time ${JSON.stringify(hhmm)} as "15:04": cannot parse ${JSON.stringify(hhmm)} as "15"`,
    );
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23) throw new TraceError(`parsing time ${JSON.stringify(hhmm)}: hour out of range`);
  if (min > 59) throw new TraceError(`parsing time ${JSON.stringify(hhmm)}: minute out of range`);
  return Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate(), h, min);
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const day: TypedFunction<AmrContext> = {
  kind: 'unary',
  params: ['time.Time'],
  result: 'string',
  impl: ([t]) => WEEKDAYS[(t as GoTime).wall().getUTCDay()],
};

const clockBetween: TypedFunction<AmrContext> = {
  kind: 'ternary',
  params: ['time.Time', 'string', 'string'],
  result: 'bool',
  impl: ([t, start, end], env) => {
    const wall = inZone(t as GoTime, env.timezone);
    let from: number;
    let to: number;
    try {
      from = clockTime(wall, start as string);
    } catch (err) {
      throw (err as TraceError).wrap(`invalid start interval: ${JSON.stringify(start)}`);
    }
    try {
      to = clockTime(wall, end as string);
    } catch (err) {
      throw (err as TraceError).wrap(`invalid end interval: ${JSON.stringify(end)}`);
    }
    return wall.getTime() > from && wall.getTime() < to;
  },
};

const VARIABLES: Record<string, Built<AmrContext>> = {
  true: { lit: true, type: 'bool', value: true },
  false: { lit: true, type: 'bool', value: false },
  'access_request.spec.roles': variable('expression.Set', (c) => new ExprSet(c.roles)),
  'access_request.spec.suggested_reviewers': variable(
    'expression.Set',
    (c) => new ExprSet(c.suggestedReviewers),
  ),
  'access_request.spec.system_annotations': mapVariable((c) => ExprDict.fromLists(c.systemAnnotations)),
  'access_request.spec.user': variable('string', (c) => c.user),
  'access_request.spec.request_reason': variable('string', (c) => c.reason),
  'access_request.spec.creation_time': variable('time.Time', (c) => time(c.created)),
  'access_request.spec.expiry': variable('time.Time', (c) => time(c.expires)),
  'access_request.spec.resource_labels_union': mapVariable((c) => ExprDict.fromLists(c.labelsUnion)),
  'access_request.spec.resource_labels_intersection': mapVariable((c) =>
    ExprDict.fromLists(c.labelsIntersection),
  ),
  'user.traits': mapVariable((c) => ExprDict.fromLists(c.traits)),
};

const parserSpec = {
  variables: VARIABLES,
  functions: { ...defaultFunctions<AmrContext>(), day, clock_between: clockBetween },
  methods: { ...defaultMethods<AmrContext>(), day, clock_between: clockBetween },
};
const parser = new TypedParser<AmrContext>(parserSpec);

/** A compiled condition. */
export interface CompiledCondition {
  /** EvaluateCondition: true only for a boolean true; an evaluation error is a ConditionError. */
  evaluate(ctx: AmrContext): boolean;
  /** Like `evaluate`, an evaluation error reading as no match (as Teleport's handlers skip it). */
  test(ctx: AmrContext): boolean;
  /** The source text of each top-level `&&` part that is not true for `ctx`. */
  failedParts(ctx: AmrContext): string[];
}

function conjuncts(n: GoNode): GoNode[] {
  const out: GoNode[] = [];
  let x: GoNode = n;
  while (x.k === 'binary' && x.op === '&&') {
    out.unshift(x.y);
    x = x.x;
  }
  out.unshift(x);
  return out;
}

function run(expr: Built<AmrContext>, ctx: AmrContext): unknown {
  return expr.lit ? expr.value : expr.run(ctx);
}

/**
 * Parses a condition as ValidateAccessMonitoringRule does (the parser's own error, not wrapped);
 * throws a ConditionError. Longer than MAX_CONDITION_LENGTH is refused before parsing.
 */
function parseCondition(source: string) {
  if (source.length > MAX_CONDITION_LENGTH) {
    throw new ConditionError(
      new TraceError(
        `condition is ${source.length} characters long, more than the ${MAX_CONDITION_LENGTH} allowed`,
      ),
    );
  }
  try {
    return parser.parse(source);
  } catch (err) {
    if (err instanceof TraceError) throw new ConditionError(err);
    throw err;
  }
}

const compiled = new Map<string, CompiledCondition>();
const MAX_CACHED = 512;

/** Compiles a condition once (cached by its text); throws a ConditionError when it does not parse. */
export function compileCondition(source: string): CompiledCondition {
  let c = compiled.get(source);
  if (c) return c;
  const { root, expr } = parseCondition(source);
  const evaluate = (ctx: AmrContext) => {
    try {
      return run(expr, ctx) === true;
    } catch (err) {
      if (err instanceof TraceError) {
        throw new ConditionError(
          err.wrap(`evaluating access monitoring rule condition expression ${JSON.stringify(source)}`),
        );
      }
      throw err;
    }
  };
  const parts = conjuncts(root).map((n) => ({
    text: source.slice(n.start, n.end).trim(),
    expr: parser.node(n),
  }));
  c = {
    evaluate,
    test: (ctx) => {
      try {
        return evaluate(ctx);
      } catch (err) {
        if (err instanceof ConditionError) return false;
        throw err;
      }
    },
    failedParts: (ctx) =>
      parts
        .filter((p) => {
          try {
            return run(p.expr, ctx) !== true;
          } catch (err) {
            if (err instanceof TraceError) return true;
            throw err;
          }
        })
        .map((p) => p.text),
  };
  if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!);
  compiled.set(source, c);
  return c;
}

/**
 * request_mapping.go: resource_labels_union (every value seen per key) and
 * resource_labels_intersection (keys whose value is the same on every resource).
 */
export function resourceLabelMaps(labels: readonly Readonly<Record<string, string>>[]): {
  union: Record<string, string[]>;
  intersection: Record<string, string[]>;
} {
  const union: Record<string, string[]> = {};
  for (const l of labels) {
    for (const [k, v] of Object.entries(l)) {
      union[k] ??= [];
      if (!union[k].includes(v)) union[k].push(v);
    }
  }
  const intersection: Record<string, string[]> = {};
  if (labels.length > 0) {
    for (const [k, v] of Object.entries(labels[0])) {
      if (labels.every((l) => Object.hasOwn(l, k) && l[k] === v)) intersection[k] = [v];
    }
  }
  return { union, intersection };
}

/**
 * Whether a condition reads `user.traits` (false for one that does not compile): parsed with
 * the real variables, watching whether the parser looks that one up.
 */
export function conditionUsesTraits(source: string): boolean {
  let uses = false;
  const variables = { ...VARIABLES };
  Object.defineProperty(variables, 'user.traits', {
    enumerable: true,
    get() {
      uses = true;
      return VARIABLES['user.traits'];
    },
  });
  try {
    new TypedParser<AmrContext>({ ...parserSpec, variables }).parse(source);
  } catch {
    return false;
  }
  return uses;
}
