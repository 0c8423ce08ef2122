/**
 * The functions and methods of lib/expression/parser.go (DefaultParserSpec), with what they
 * call: lib/utils/parse (email.local, regexp.replace), lib/utils/replace.go (RegexMatchesAny),
 * coreos/go-semver (newer_than, older_than, between on versions).
 *
 * Regular expressions are Go's (RE2 syntax, linear-time matching) through re2js, a JavaScript
 * port of RE2: JavaScript's backtracking RegExp is neither.
 */
import { RE2JS } from 're2js';
import type { GoType, TypedFunction } from './typical.js';
import { ExprDict, ExprSet, GoOption, GoTime, goTypeOf, Pair, TraceError, wrapped } from './values.js';

const ANY: GoType = 'interface {}';
const SET: GoType = 'expression.Set';
const DICT: GoType = 'expression.Dict';
const TIME: GoType = 'time.Time';

function bad(msg: string): TraceError {
  return new TraceError(msg);
}

function fn<E, A extends unknown[]>(
  kind: TypedFunction<E>['kind'],
  params: GoType[],
  result: GoType,
  impl: (args: A, env: E) => unknown,
  variadic?: GoType,
): TypedFunction<E> {
  return { kind, params, result, impl: impl as TypedFunction<E>['impl'], variadic };
}

/** regexp.QuoteMeta. */
function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

const compiled = new Map<string, RE2JS>();

/** regexp.Compile, cached; a bad pattern is a TraceError with Go's text. */
export function compileRegexp(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (!re) {
    try {
      re = RE2JS.compile(pattern);
    } catch (err) {
      throw bad((err as Error).message);
    }
    if (compiled.size >= 1000) compiled.delete(compiled.keys().next().value!);
    compiled.set(pattern, re);
  }
  return re;
}

/** lib/utils CompileExpression: `^…$` is a regular expression, anything else a glob. */
function compileExpression(expression: string): RE2JS {
  const raw =
    expression.startsWith('^') && expression.endsWith('$')
      ? expression
      : `^${quoteMeta(expression).replaceAll('\\*', '(.*)')}$`;
  return compileRegexp(raw);
}

/** lib/utils RegexMatchesAny. */
function regexMatchesAny(inputs: string[], expression: string): boolean {
  const re = compileExpression(expression);
  return inputs.some((v) => re.test(v));
}

/** Regexp.Expand's template: `$1`, `${1}`, `$name`, `${name}`, `$$`. */
function expand(template: string, group: (name: string) => string): string {
  let out = '';
  for (let i = 0; i < template.length; ) {
    const c = template[i];
    if (c !== '$') {
      out += c;
      i += 1;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    let name: string | undefined;
    let next = i + 1;
    if (template[i + 1] === '{') {
      const m = /^\{([A-Za-z0-9_]+)\}/.exec(template.slice(i + 1));
      if (m) {
        name = m[1];
        next = i + 1 + m[0].length;
      }
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (m) {
        name = m[0];
        next = i + 1 + m[0].length;
      }
    }
    if (name === undefined) {
      out += '$';
      i += 1;
      continue;
    }
    out += group(name);
    i = next;
  }
  return out;
}

/** Regexp.ReplaceAllString: every non-overlapping match, an empty match right after one skipped. */
function replaceAll(re: RE2JS, src: string, template: string): string {
  const m = re.matcher(src);
  const named = re.namedGroups();
  const groups = re.groupCount();
  let out = '';
  let lastEnd = 0;
  let search = 0;
  while (search <= src.length && m.find(search)) {
    const start = m.start();
    const end = m.end();
    out += src.slice(lastEnd, start);
    if (end > lastEnd || start === 0) {
      out += expand(template, (name) => {
        const idx = /^[0-9]+$/.test(name) ? Number(name) : Object.hasOwn(named, name) ? named[name] : -1;
        return idx >= 0 && idx <= groups ? (m.group(idx) ?? '') : '';
      });
    }
    lastEnd = end;
    const width = (src.codePointAt(search) ?? 0) > 0xffff ? 2 : 1;
    if (search + width > end) search += width;
    else search = end;
  }
  return out + src.slice(lastEnd);
}

/** lib/utils/parse RegexpReplace: elements that do not match, or become empty, are dropped. */
function regexpReplace(inputs: string[], match: string, replacement: string): string[] {
  let re: RE2JS;
  try {
    re = compileRegexp(match);
  } catch (err) {
    throw bad(`failed to parse regexp ${JSON.stringify(match)}: ${(err as Error).message}`).wrap(
      `invalid regexp ${JSON.stringify(match)}`,
    );
  }
  return inputs.map((v) => (re.test(v) ? replaceAll(re, v, replacement) : '')).filter((v) => v !== '');
}

const ATEXT = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+";
const DOT_ATOM = new RegExp(`^${ATEXT}(?:\\.${ATEXT})*$`);

/** net/mail ParseAddress, for the address forms identity providers send. */
function mailAddress(s: string): string {
  let addr = s.trim();
  const angle = /<([^<>]*)>\s*$/.exec(addr);
  if (angle) addr = angle[1];
  const at = addr.lastIndexOf('@');
  if (at < 0) throw new Error(angle ? 'mail: missing @ in addr-spec' : "mail: missing '@' or angle-addr");
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  if (!DOT_ATOM.test(local) && !/^"(?:[^"\\]|\\.)*"$/.test(local)) throw new Error('mail: invalid string');
  if (!DOT_ATOM.test(domain) && !/^\[[^[\]\\]*\]$/.test(domain)) throw new Error('mail: invalid domain');
  return `${local}@${domain}`;
}

/** lib/utils/parse EmailLocal. */
function emailLocal(inputs: string[]): string[] {
  return inputs
    .map((email) => {
      if (email === '') throw bad('found empty "email.local" argument');
      let address: string;
      try {
        address = mailAddress(email);
      } catch (err) {
        throw bad(
          `failed to parse "email.local" argument ${JSON.stringify(email)}: ${(err as Error).message}`,
        );
      }
      return address.slice(0, address.lastIndexOf('@'));
    })
    .filter((v) => v !== '');
}

/** strings.ToUpper / ToLower: rune by rune, a rune whose case has no single rune kept. */
function mapRunes(s: string, f: (c: string) => string): string {
  let out = '';
  for (const c of s) {
    const m = f(c);
    out += [...m].length === 1 ? m : c;
  }
  return out;
}

/** lib/expression StringTransform. */
function stringTransform(name: string, input: unknown, f: (s: string) => string): unknown {
  if (typeof input === 'string') return f(input);
  if (input instanceof ExprSet) return new ExprSet(input.items().map(f));
  throw bad(
    `failed to evaluate argument to ${name}: expected string or set, got value of type ${goTypeOf(input)}`,
  );
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/;

/** time.Parse(time.RFC3339, s). */
export function parseRFC3339(s: string): GoTime {
  const m = RFC3339.exec(s);
  const fail = (why: string) => bad(`parsing time ${JSON.stringify(s)}${why}`);
  if (!m) throw fail(` as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(s)} as "2006"`);
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12) throw fail(': month out of range');
  const days = new Date(Date.UTC(2000, mo, 0)).getUTCDate() - (mo === 2 && !isLeap(y) ? 1 : 0);
  if (d < 1 || d > days) throw fail(': day out of range');
  if (h > 23) throw fail(': hour out of range');
  if (mi > 59) throw fail(': minute out of range');
  if (sec > 59) throw fail(': second out of range');
  const offset = m[8] === 'Z' ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, sec, m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0);
  return new GoTime(date.getTime() - offset * 60_000, offset);
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

interface Semver {
  nums: [bigint, bigint, bigint];
  pre: string;
}

/** coreos/go-semver NewVersion. */
function newVersion(version: string): Semver {
  let rest = version;
  const split = (delim: string) => {
    const at = rest.indexOf(delim);
    if (at < 0) return '';
    const v = rest.slice(at + 1);
    rest = rest.slice(0, at);
    return v;
  };
  const metadata = split('+');
  const pre = split('-');
  const dots = rest.split('.');
  const parts = dots.length > 3 ? [...dots.slice(0, 2), dots.slice(2).join('.')] : dots;
  if (parts.length !== 3) throw bad(`${rest} is not in dotted-tri format`);
  const ident = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;
  if (pre !== '' && !ident.test(pre))
    throw bad(`failed to validate pre-release: ${pre} is not a valid semver identifier`);
  if (metadata !== '' && !ident.test(metadata)) {
    throw bad(`failed to validate metadata: ${metadata} is not a valid semver identifier`);
  }
  const nums = parts.map((p) => {
    if (!/^[+-]?[0-9]+$/.test(p)) throw bad(`strconv.ParseInt: parsing ${JSON.stringify(p)}: invalid syntax`);
    return BigInt(p);
  }) as [bigint, bigint, bigint];
  return { nums, pre };
}

function comparePre(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.min(as.length, bs.length); i += 1) {
    const x = as[i];
    const y = bs[i];
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    let c: number;
    if (xn && yn) c = BigInt(x) < BigInt(y) ? -1 : BigInt(x) > BigInt(y) ? 1 : 0;
    else if (xn) c = -1;
    else if (yn) c = 1;
    else c = x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return as.length - bs.length === 0 ? 0 : as.length < bs.length ? -1 : 1;
}

/** lib/expression ToSemver, then Version.Compare. */
function semverCompare(a: unknown, b: unknown): number {
  const v = (x: unknown) => {
    if (typeof x !== 'string') throw bad(`type ${goTypeOf(x)} cannot be parsed as semver.Version`);
    return newVersion(x);
  };
  const va = v(a);
  const vb = v(b);
  for (let i = 0; i < 3; i += 1) {
    if (va.nums[i] !== vb.nums[i]) return va.nums[i] < vb.nums[i] ? -1 : 1;
  }
  return comparePre(va.pre, vb.pre);
}

function timeBetween(t: GoTime, a: GoTime, b: GoTime): boolean {
  const [lo, hi] = a.ms > b.ms ? [b, a] : [a, b];
  return t.ms > lo.ms && t.ms < hi.ms;
}

const containsAny = fn('binary', [SET, SET], 'bool', ([a, b]: ExprSet[]) =>
  b.items().some((v) => a.contains(v)),
);
// contains_all of an empty set is false.
const containsAll = fn(
  'binary',
  [SET, SET],
  'bool',
  ([a, b]: ExprSet[]) => b.size > 0 && b.items().every((v) => a.contains(v)),
);
const isEmpty = fn('unary', [SET], 'bool', ([s]: ExprSet[]) => s.size === 0);
const before = fn('binary', [TIME, TIME], 'bool', ([t, u]: GoTime[]) => t.ms < u.ms);
const after = fn('binary', [TIME, TIME], 'bool', ([t, u]: GoTime[]) => t.ms > u.ms);

/** DefaultParserSpec's functions. */
export function defaultFunctions<E>(): Record<string, TypedFunction<E>> {
  return {
    set: fn('unaryVariadic', [], SET, (args: string[]) => new ExprSet(args), 'string'),
    dict: fn(
      'unaryVariadic',
      [],
      DICT,
      (pairs: Pair[]) => {
        const m = new Map<string, ExprSet>();
        for (const p of pairs) {
          if (typeof p.first !== 'string')
            throw bad(`dict keys must have type string, got ${goTypeOf(p.first)}`);
          if (!(p.second instanceof ExprSet)) {
            throw bad(`dict values must have type set, got ${goTypeOf(p.second)}`);
          }
          m.set(p.first, p.second);
        }
        return new ExprDict(m);
      },
      'expression.pair',
    ),
    pair: fn('binary', [ANY, ANY], 'expression.pair', ([a, b]: unknown[]) => new Pair(a, b)),
    union: fn(
      'unaryVariadic',
      [],
      SET,
      (sets: ExprSet[]) => new ExprSet(sets.flatMap((s) => s.items())),
      SET,
    ),
    ifelse: fn('ternary', ['bool', ANY, ANY], ANY, ([c, a, b]: unknown[]) => (c ? a : b)),
    'strings.upper': fn('unary', [ANY], ANY, ([x]: unknown[]) =>
      stringTransform('strings.upper', x, (s) => mapRunes(s, (c) => c.toUpperCase())),
    ),
    'strings.lower': fn('unary', [ANY], ANY, ([x]: unknown[]) =>
      stringTransform('strings.lower', x, (s) => mapRunes(s, (c) => c.toLowerCase())),
    ),
    'strings.replaceall': fn(
      'ternary',
      [ANY, 'string', 'string'],
      ANY,
      ([x, o, n]: [unknown, string, string]) =>
        stringTransform('strings.replaceall', x, (s) =>
          o === '' ? goReplaceEmpty(s, n) : s.split(o).join(n),
        ),
    ),
    choose: fn(
      'unaryVariadic',
      [],
      ANY,
      (opts: GoOption[]) => {
        const o = opts.find((x) => x.condition);
        if (!o) {
          throw bad(
            'evaluating choose expression: no option could be selected, consider adding a default option by hardcoding the condition to "true"',
          );
        }
        return o.value;
      },
      'expression.option',
    ),
    option: fn(
      'binary',
      ['bool', ANY],
      'expression.option',
      ([c, v]: [boolean, unknown]) => new GoOption(c, v),
    ),
    'email.local': fn('unary', [SET], SET, ([s]: ExprSet[]) => new ExprSet(emailLocal(s.items()))),
    'regexp.match': fn('binary', [SET, 'string'], 'bool', ([s, p]: [ExprSet, string]) =>
      wrapped(`invalid regular expression ${JSON.stringify(p)}`, () => regexMatchesAny(s.items(), p)),
    ),
    'regexp.replace': fn(
      'ternary',
      [SET, 'string', 'string'],
      SET,
      ([s, m, r]: [ExprSet, string, string]) => new ExprSet(regexpReplace(s.items(), m, r)),
    ),
    'strings.split': fn(
      'binary',
      [SET, 'string'],
      SET,
      ([s, sep]: [ExprSet, string]) =>
        new ExprSet(s.items().flatMap((v) => (sep === '' ? [...v] : v.split(sep)))),
    ),
    'time.RFC3339': fn('unary', ['string'], TIME, ([s]: string[]) => parseRFC3339(s)),
    before,
    after,
    between: fn('ternary', [ANY, ANY, ANY], 'bool', ([v, a, b]: unknown[]) => {
      if (v instanceof GoTime) {
        if (!(a instanceof GoTime) || !(b instanceof GoTime)) {
          throw bad('the time parameters provided are invalid time values');
        }
        return timeBetween(v, a, b);
      }
      return semverCompare(v, a) >= 0 && semverCompare(v, b) < 0;
    }),
    contains_any: containsAny,
    contains_all: containsAll,
    is_empty: isEmpty,
    newer_than: fn('binary', [ANY, ANY], 'bool', ([a, b]: unknown[]) => semverCompare(a, b) > 0),
    older_than: fn('binary', [ANY, ANY], 'bool', ([a, b]: unknown[]) => semverCompare(a, b) < 0),
  };
}

/** strings.ReplaceAll with an empty old string: the new one before every rune and at the end. */
function goReplaceEmpty(s: string, n: string): string {
  return `${n}${[...s].join(n)}${s === '' ? '' : n}`;
}

/** DefaultParserSpec's methods. */
export function defaultMethods<E>(): Record<string, TypedFunction<E>> {
  return {
    add: fn(
      'binaryVariadic',
      [SET],
      SET,
      ([s, ...v]: [ExprSet, ...string[]]) => new ExprSet([...s.items(), ...v]),
      'string',
    ),
    contains: fn('binary', [SET, 'string'], 'bool', ([s, v]: [ExprSet, string]) => s.contains(v)),
    put: fn(
      'ternary',
      [DICT, 'string', SET],
      DICT,
      ([d, k, v]: [ExprDict, string, ExprSet]) => new ExprDict(new Map([...d.m, [k, v]])),
    ),
    add_values: fn(
      'ternaryVariadic',
      [DICT, 'string'],
      DICT,
      ([d, k, ...v]: [ExprDict, string, ...string[]]) =>
        new ExprDict(new Map([...d.m, [k, new ExprSet([...(d.m.get(k)?.items() ?? []), ...v])]])),
      'string',
    ),
    remove: fn(
      'binaryVariadic',
      ['expression.remover'],
      ANY,
      ([r, ...items]: [ExprSet | ExprDict, ...string[]]) => {
        if (r instanceof ExprSet) return new ExprSet(r.items().filter((v) => !items.includes(v)));
        return new ExprDict(new Map([...r.m].filter(([k]) => !items.includes(k))));
      },
      'string',
    ),
    before,
    after,
    between: fn(
      'binaryVariadic',
      [TIME],
      'bool',
      ([t, ...interval]: GoTime[]) => {
        if (interval.length !== 2) throw bad(`between expected 2 parameters: got ${interval.length}`);
        return timeBetween(t, interval[0], interval[1]);
      },
      TIME,
    ),
    contains_any: containsAny,
    contains_all: containsAll,
    isempty: isEmpty,
  };
}
