/**
 * The values of Teleport's expression language (lib/expression: set.go, dict.go) and the
 * errors it returns (github.com/gravitational/trace), with the Go type names its messages use.
 */

/** A gravitational/trace error: a cause and the messages it was wrapped with, innermost first. */
export class TraceError extends Error {
  override readonly name = 'TraceError';
  constructor(
    readonly cause0: string,
    readonly messages: readonly string[] = [],
  ) {
    super([...messages].reverse().concat(cause0).join(': '));
  }

  /** trace.Wrap(err, msg). */
  wrap(msg: string): TraceError {
    return new TraceError(this.cause0, [...this.messages, msg]);
  }

  /**
   * The text Teleport's `err.Error()` gives (trace's UserMessage): the outermost message first,
   * each inner one on its own line, one tab deeper.
   */
  get teleportText(): string {
    if (this.messages.length === 0) return this.cause0;
    const lines = [...this.messages].reverse().concat(this.cause0);
    return lines.map((l, i) => `${'\t'.repeat(i)}${l}`).join('\n');
  }
}

/** Runs `f`, wrapping a TraceError it throws with `msg`. */
export function wrapped<T>(msg: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof TraceError) throw err.wrap(msg);
    throw err;
  }
}

/** expression.Set: unordered unique strings. */
export class ExprSet {
  readonly s: ReadonlySet<string>;
  constructor(items: Iterable<string> = []) {
    this.s = new Set(items);
  }
  contains(v: string): boolean {
    return this.s.has(v);
  }
  items(): string[] {
    return [...this.s];
  }
  get size(): number {
    return this.s.size;
  }
}

/** expression.Dict: string keys, Set values. */
export class ExprDict {
  constructor(readonly m: ReadonlyMap<string, ExprSet> = new Map()) {}
  /** Dict.Get: a missing key is the empty set. */
  get(key: string): ExprSet {
    return this.m.get(key) ?? new ExprSet();
  }
  static fromLists(lists: Readonly<Record<string, readonly string[]>>): ExprDict {
    return new ExprDict(new Map(Object.entries(lists).map(([k, v]) => [k, new ExprSet(v)])));
  }
}

/** A float64 literal (Go keeps ints and floats apart; JavaScript does not). */
export class GoFloat {
  constructor(readonly v: number) {}
}

/** time.Time: an instant and the UTC offset it is shown in (minutes east). */
export class GoTime {
  constructor(
    readonly ms: number,
    readonly offsetMinutes = 0,
  ) {}
  /** The wall clock of this time in its own offset, as a UTC Date. */
  wall(): Date {
    return new Date(this.ms + this.offsetMinutes * 60_000);
  }
}

/** Go's zero time.Time, 0001-01-01T00:00:00Z. */
export const ZERO_TIME = new GoTime(Date.parse('0001-01-01T00:00:00Z'));

export class Pair {
  constructor(
    readonly first: unknown,
    readonly second: unknown,
  ) {}
}

export class GoOption {
  constructor(
    readonly condition: boolean,
    readonly value: unknown,
  ) {}
}

/** Go's %T of a value. */
export function goTypeOf(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoFloat) return 'float64';
  if (v instanceof ExprSet) return 'expression.Set';
  if (v instanceof ExprDict) return 'expression.Dict';
  if (v instanceof GoTime) return 'time.Time';
  if (v instanceof Pair) return 'expression.pair';
  if (v instanceof GoOption) return 'expression.option';
  return '<nil>';
}

/** strconv.FormatFloat(v, 'g', -1, 64), as Go's %v prints a float64. */
function goFloat(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
  const exp = v === 0 ? 0 : Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 21) {
    const [m, e] = v.toExponential().split('e');
    const n = Number(e);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return String(v);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Go's %+v of a value. */
export function goValue(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof GoFloat) return goFloat(v.v);
  if (v instanceof ExprSet)
    return `{s:map[${[...v.s]
      .sort()
      .map((x) => `${x}:{}`)
      .join(' ')}]}`;
  if (v instanceof ExprDict) {
    return `map[${[...v.m.keys()]
      .sort()
      .map((k) => `${k}:${goValue(v.m.get(k))}`)
      .join(' ')}]`;
  }
  if (v instanceof GoTime) {
    const w = v.wall();
    const off = Math.abs(v.offsetMinutes);
    const sign = v.offsetMinutes < 0 ? '-' : '+';
    const zone = v.offsetMinutes === 0 ? 'UTC' : '';
    return (
      `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())} ` +
      `${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())} ` +
      `${sign}${pad(Math.floor(off / 60))}${pad(off % 60)} ${zone}`.trimEnd()
    );
  }
  if (v instanceof Pair) return `{first:${goValue(v.first)} second:${goValue(v.second)}}`;
  if (v instanceof GoOption) return `{condition:${v.condition} value:${goValue(v.value)}}`;
  return '<nil>';
}
