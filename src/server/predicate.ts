import type { Resource } from './types.js';

/**
 * A small predicate language in the style of Teleport's (`labels["env"] == "prod" && search("web")`),
 * used by ListResources' PredicateExpression and by role `review_requests.where` and
 * threshold `filter` expressions. A real tokenizer and recursive-descent parser build an AST,
 * which is type-checked against an environment (which identifiers and functions exist)
 * before it is compiled to a closure; anything outside the environment is a PredicateError
 * that names the construct and its position (a 0-based character offset).
 *
 * Grammar:
 *   expr    := and ('||' and)*
 *   and     := unary ('&&' unary)*
 *   unary   := '!' unary | compare
 *   compare := primary (('==' | '!=') primary)?
 *   primary := STRING | 'true' | 'false' | '(' expr ')' | path ('(' args? ')')?
 *   path    := IDENT ('.' IDENT | '[' STRING ']')*
 *
 * A call whose name is not a function but ends in a method of the environment
 * (`access_request.spec.roles.contains("dba")`, `user.traits["team"].contains("dev")`) calls
 * that method with the rest of the path as its receiver, as Teleport's `typical` parser does.
 */

/** A value an expression can produce. Maps are label maps (string values) or trait maps (lists). */
export type PredicateValue = string | boolean | string[] | Readonly<Record<string, string | string[]>>;

export type ValueType = 'string' | 'bool' | 'list' | 'map';

/** A parse or type error, with the 0-based offset of the offending construct. */
export class PredicateError extends Error {
  override readonly name = 'PredicateError';
  constructor(
    readonly detail: string,
    readonly position: number,
  ) {
    super(`${detail} at position ${position}`);
  }
}

export interface PredicateVariable<C> {
  type: ValueType;
  /** Undefined when absent (a missing label); absent strings read as `""`, absent lists as `[]`. */
  get(ctx: C): PredicateValue | undefined;
}

export interface PredicateFunction<C> {
  /** Parameter types; `any` accepts any type (the function checks). */
  params: (ValueType | 'any')[];
  /** When set, further arguments of this type are accepted. */
  variadic?: ValueType;
  /** At least this many arguments (defaults to `params.length`). */
  minArgs?: number;
  /** When set, every argument must be a variable; `call` then receives raw (possibly undefined) values. */
  variableArgs?: boolean;
  result: ValueType;
  call(args: (PredicateValue | undefined)[], ctx: C): PredicateValue;
}

/** What an expression may refer to. */
export interface PredicateEnv<C> {
  /** Resolves an identifier path (`labels.env` and `labels["env"]` are both `['labels','env']`). */
  variable(path: readonly string[]): PredicateVariable<C> | undefined;
  functions: Readonly<Record<string, PredicateFunction<C>>>;
  /** Methods: called as `receiver.name(args)`, the receiver being the first parameter. */
  methods?: Readonly<Record<string, PredicateFunction<C>>>;
}

type Token =
  | { t: 'ident'; v: string; pos: number; end: number }
  | { t: 'string'; v: string; pos: number; end: number }
  | { t: 'op'; v: string; pos: number; end: number }
  | { t: 'end'; pos: number; end: number };

/** Where a node's source text starts and ends (for explanations). */
interface Span {
  start: number;
  end: number;
}

type Node = Partial<Span> &
  (
    | { k: 'string'; v: string; pos: number }
    | { k: 'bool'; v: boolean; pos: number }
    | { k: 'var'; path: string[]; pos: number }
    | { k: 'call'; name: string; path: string[]; indexed: boolean; args: Node[]; pos: number; dotPos: number }
    | { k: 'not'; e: Node; pos: number }
    | { k: 'and' | 'or'; l: Node; r: Node; pos: number }
    | { k: '==' | '!='; l: Node; r: Node; pos: number }
  );

const OPERATORS = ['&&', '||', '==', '!=', '!', '(', ')', '[', ']', '.', ','];

function readString(src: string, start: number): { value: string; end: number } {
  const quote = src[start];
  let out = '';
  let i = start + 1;
  while (i < src.length) {
    const c = src[i];
    if (c === quote) return { value: out, end: i + 1 };
    if (c === '\\' && quote === '"') {
      const n = src[i + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', '/': '/' };
      if (n !== undefined && Object.hasOwn(simple, n)) {
        out += simple[n];
        i += 2;
        continue;
      }
      if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
        out += String.fromCharCode(Number.parseInt(src.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      throw new PredicateError(`invalid escape sequence "\\${n ?? ''}" in string`, i);
    }
    out += c;
    i += 1;
  }
  throw new PredicateError('unterminated string', start);
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === '"' || c === '`') {
      const { value, end } = readString(src, i);
      tokens.push({ t: 'string', v: value, pos: i, end });
      i = end;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      // Sticky, so a long expression is scanned once rather than copied at every name.
      IDENT.lastIndex = i;
      const m = IDENT.exec(src)!;
      tokens.push({ t: 'ident', v: m[0], pos: i, end: i + m[0].length });
      i += m[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      tokens.push({ t: 'op', v: op, pos: i, end: i + op.length });
      i += op.length;
      continue;
    }
    if (c === "'") throw new PredicateError('single-quoted strings are not supported, use "…"', i);
    if (/[0-9]/.test(c)) throw new PredicateError('number literals are not supported', i);
    throw new PredicateError(`unexpected character ${JSON.stringify(c)}`, i);
  }
  tokens.push({ t: 'end', pos: src.length, end: src.length });
  return tokens;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

/**
 * Deepest nesting of parentheses, `!` and function arguments. Teleport parses predicates with
 * Go's go/parser (github.com/vulcand/predicate: parse.go, `parser.ParseExpr`), which refuses
 * more than 100,000 levels ("exceeded max nesting depth", go/parser maxNestLev); Go's stacks
 * grow, ours do not, so the bound here is lower but still far beyond any hand-written query.
 */
export const MAX_PREDICATE_DEPTH = 200;

class Parser {
  private i = 0;
  private depth = 0;

  /** Runs `f` one nesting level deeper; a PredicateError at `pos` beyond MAX_PREDICATE_DEPTH. */
  private nested<T>(pos: number, f: () => T): T {
    if (this.depth >= MAX_PREDICATE_DEPTH) {
      throw new PredicateError(
        `expression is nested too deeply (more than ${MAX_PREDICATE_DEPTH} levels)`,
        pos,
      );
    }
    this.depth += 1;
    try {
      return f();
    } finally {
      this.depth -= 1;
    }
  }
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    if (this.peek().t === 'end') throw new PredicateError('empty expression', 0);
    const node = this.or();
    const next = this.peek();
    if (next.t !== 'end') throw new PredicateError(`unexpected ${describe(next)}`, next.pos);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  /** Records the source span of the node `fn` parses. */
  private spanned(fn: () => Node): Node {
    const start = this.peek().pos;
    const node = fn();
    node.start ??= start;
    node.end = this.tokens[this.i - 1]?.end ?? start;
    return node;
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }

  private expectOp(v: string): Token {
    const t = this.peek();
    if (t.t !== 'op' || t.v !== v)
      throw new PredicateError(`expected "${v}" but found ${describe(t)}`, t.pos);
    this.i += 1;
    return t;
  }

  private or(): Node {
    return this.spanned(() => this.orInner());
  }

  private orInner(): Node {
    let l = this.and();
    while (this.isOp('||')) {
      const pos = this.peek().pos;
      this.i += 1;
      l = { k: 'or', l, r: this.and(), pos, start: l.start };
    }
    return l;
  }

  private and(): Node {
    return this.spanned(() => {
      let l = this.unary();
      while (this.isOp('&&')) {
        const pos = this.peek().pos;
        this.i += 1;
        l = { k: 'and', l, r: this.unary(), pos, start: l.start };
      }
      return l;
    });
  }

  private unary(): Node {
    return this.spanned(() => {
      if (this.isOp('!')) {
        const pos = this.peek().pos;
        this.i += 1;
        return { k: 'not', e: this.nested(pos, () => this.unary()), pos };
      }
      return this.compare();
    });
  }

  private compare(): Node {
    const l = this.primary();
    if (this.isOp('==') || this.isOp('!=')) {
      const t = this.peek() as { v: '==' | '!='; pos: number };
      this.i += 1;
      return { k: t.v, l, r: this.primary(), pos: t.pos };
    }
    return l;
  }

  private primary(): Node {
    const t = this.peek();
    if (t.t === 'string') {
      this.i += 1;
      return { k: 'string', v: t.v, pos: t.pos };
    }
    if (t.t === 'op' && t.v === '(') {
      this.i += 1;
      const e = this.nested(t.pos, () => this.or());
      const close = this.expectOp(')');
      e.start = t.pos;
      e.end = close.end;
      return e;
    }
    if (t.t === 'ident') {
      if (t.v === 'true' || t.v === 'false') {
        this.i += 1;
        return { k: 'bool', v: t.v === 'true', pos: t.pos };
      }
      return this.pathOrCall();
    }
    throw new PredicateError(
      t.t === 'end' ? 'unexpected end of expression' : `unexpected ${describe(t)}`,
      t.pos,
    );
  }

  private pathOrCall(): Node {
    const first = this.peek() as { v: string; pos: number };
    this.i += 1;
    const path = [first.v];
    let indexed = false;
    let dotPos = first.pos;
    for (;;) {
      if (this.isOp('.')) {
        dotPos = this.peek().pos;
        this.i += 1;
        const t = this.peek();
        if (t.t !== 'ident')
          throw new PredicateError(`expected a name after "." but found ${describe(t)}`, t.pos);
        path.push(t.v);
        this.i += 1;
      } else if (this.isOp('[')) {
        this.i += 1;
        const t = this.peek();
        if (t.t !== 'string') {
          throw new PredicateError(`expected a quoted key inside "[…]" but found ${describe(t)}`, t.pos);
        }
        path.push(t.v);
        this.i += 1;
        this.expectOp(']');
        indexed = true;
      } else {
        break;
      }
    }
    if (this.isOp('(')) {
      // `labels["a"](…)` calls nothing: only a name (or a method after ".") may be called.
      const last = this.tokens[this.i - 1];
      if (last.t === 'op') throw new PredicateError('unexpected "("', this.peek().pos);
      this.i += 1;
      const args: Node[] = [];
      this.nested(first.pos, () => {
        if (!this.isOp(')')) {
          args.push(this.or());
          while (this.isOp(',')) {
            this.i += 1;
            args.push(this.or());
          }
        }
      });
      this.expectOp(')');
      return { k: 'call', name: path.join('.'), path, indexed, args, pos: first.pos, dotPos };
    }
    return { k: 'var', path, pos: first.pos };
  }
}

function describe(t: Token): string {
  switch (t.t) {
    case 'end':
      return 'end of expression';
    case 'string':
      return `string ${JSON.stringify(t.v)}`;
    case 'ident':
      return `identifier "${t.v}"`;
    default:
      return `"${t.v}"`;
  }
}

type Compiled<C> = { type: ValueType; run(ctx: C): PredicateValue; raw?(ctx: C): PredicateValue | undefined };

function coerce(type: ValueType, v: PredicateValue | undefined): PredicateValue {
  if (v !== undefined) return v;
  switch (type) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'list':
      return [];
    default:
      return {};
  }
}

function compileNode<C>(node: Node, env: PredicateEnv<C>): Compiled<C> {
  switch (node.k) {
    case 'string':
      return { type: 'string', run: () => node.v };
    case 'bool':
      return { type: 'bool', run: () => node.v };
    case 'var': {
      const v = env.variable(node.path);
      if (!v) throw new PredicateError(`unknown identifier "${node.path.join('.')}"`, node.pos);
      return { type: v.type, run: (ctx) => coerce(v.type, v.get(ctx)), raw: (ctx) => v.get(ctx) };
    }
    case 'not': {
      const e = expectType(compileNode(node.e, env), 'bool', 'operator "!"', node.pos);
      return { type: 'bool', run: (ctx) => !e.run(ctx) };
    }
    case 'and':
    case 'or': {
      const op = node.k === 'and' ? '&&' : '||';
      const l = expectType(compileNode(node.l, env), 'bool', `operator "${op}"`, node.pos);
      const r = expectType(compileNode(node.r, env), 'bool', `operator "${op}"`, node.pos);
      return node.k === 'and'
        ? { type: 'bool', run: (ctx) => Boolean(l.run(ctx)) && Boolean(r.run(ctx)) }
        : { type: 'bool', run: (ctx) => Boolean(l.run(ctx)) || Boolean(r.run(ctx)) };
    }
    case '==':
    case '!=': {
      const l = compileNode(node.l, env);
      const r = compileNode(node.r, env);
      if (l.type !== r.type || (l.type !== 'string' && l.type !== 'bool')) {
        throw new PredicateError(
          `operator "${node.k}" compares two strings (or two booleans), got ${l.type} and ${r.type}`,
          node.pos,
        );
      }
      const eq = node.k === '==';
      return { type: 'bool', run: (ctx) => (l.run(ctx) === r.run(ctx)) === eq };
    }
    case 'call': {
      if (!node.indexed && Object.hasOwn(env.functions, node.name)) {
        return compileCall(node.name, env.functions[node.name], node.args, node.pos, env);
      }
      const method = node.path[node.path.length - 1];
      if (node.path.length > 1 && env.methods && Object.hasOwn(env.methods, method)) {
        const receiver: Node = { k: 'var', path: node.path.slice(0, -1), pos: node.pos };
        return compileCall(method, env.methods[method], [receiver, ...node.args], node.dotPos + 1, env, 1);
      }
      throw new PredicateError(`unsupported function "${node.name}"`, node.pos);
    }
  }
}

/**
 * Type-checks a call of `fn` and returns its evaluator. `implicit` arguments (a method's
 * receiver) are not counted in messages about the argument list.
 */
function compileCall<C>(
  name: string,
  fn: PredicateFunction<C>,
  argNodes: Node[],
  pos: number,
  env: PredicateEnv<C>,
  implicit = 0,
): Compiled<C> {
  const min = fn.minArgs ?? fn.params.length;
  const max = fn.variadic ? Number.POSITIVE_INFINITY : fn.params.length;
  if (argNodes.length < min || argNodes.length > max) {
    const want = fn.variadic
      ? `at least ${min - implicit}`
      : min === max
        ? `${min - implicit}`
        : `${min - implicit} to ${max - implicit}`;
    const plural = (fn.variadic || min === max) && min - implicit === 1 ? '' : 's';
    throw new PredicateError(
      `function "${name}" takes ${want} argument${plural}, got ${argNodes.length - implicit}`,
      pos,
    );
  }
  const args = argNodes.map((a, i) => {
    if (fn.variableArgs && a.k !== 'var') {
      throw new PredicateError(`function "${name}" takes a field such as labels.env`, a.pos);
    }
    const c = compileNode(a, env);
    const want = fn.params[i] ?? fn.variadic!;
    if (want !== 'any' && c.type !== want) {
      const what =
        i < implicit ? `receiver of method "${name}"` : `argument ${i + 1 - implicit} of function "${name}"`;
      throw new PredicateError(`${what} must be a ${want}, got ${c.type}`, a.pos);
    }
    return c;
  });
  return {
    type: fn.result,
    run: (ctx) =>
      fn.call(
        args.map((a) => (fn.variableArgs && a.raw ? a.raw(ctx) : a.run(ctx))),
        ctx,
      ),
  };
}

function expectType<C>(c: Compiled<C>, type: ValueType, what: string, pos: number): Compiled<C> {
  if (c.type !== type) throw new PredicateError(`${what} expects ${type} operands, got ${c.type}`, pos);
  return c;
}

/**
 * Parses and type-checks `source` against `env` and returns its evaluator.
 * Throws a PredicateError for syntax errors, unknown identifiers, unsupported functions and
 * type mismatches.
 */
export function compilePredicate<C>(source: string, env: PredicateEnv<C>): (ctx: C) => boolean {
  const ast = new Parser(tokenize(source)).parse();
  const compiled = compileNode(ast, env);
  if (compiled.type !== 'bool') {
    throw new PredicateError(`expression must be a condition (boolean), got ${compiled.type}`, ast.pos);
  }
  return (ctx) => Boolean(compiled.run(ctx));
}

/** A compiled condition that can also say which of its top-level `&&` parts failed. */
export interface ExplainedPredicate<C> {
  test(ctx: C): boolean;
  /** The source text of each top-level conjunct that is false for `ctx` (empty when it matched). */
  failedParts(ctx: C): string[];
}

function conjuncts(node: Node): Node[] {
  return node.k === 'and' ? [...conjuncts(node.l), ...conjuncts(node.r)] : [node];
}

/** Like {@link compilePredicate}, keeping the top-level conjuncts apart to explain a mismatch. */
export function compileExplainedPredicate<C>(source: string, env: PredicateEnv<C>): ExplainedPredicate<C> {
  const ast = new Parser(tokenize(source)).parse();
  const compiled = compileNode(ast, env);
  if (compiled.type !== 'bool') {
    throw new PredicateError(`expression must be a condition (boolean), got ${compiled.type}`, ast.pos);
  }
  const parts = conjuncts(ast).map((n) => ({
    text: source.slice(n.start ?? 0, n.end ?? source.length).trim(),
    run: compileNode(n, env).run,
  }));
  return {
    test: (ctx) => Boolean(compiled.run(ctx)),
    failedParts: (ctx) => parts.filter((p) => !p.run(ctx)).map((p) => p.text),
  };
}

/** A list variable backed by a map of lists (traits, annotations): `reviewer.traits["team"]`. */
function mapOfLists<C>(
  prefix: readonly string[],
  path: readonly string[],
  get: (ctx: C) => Readonly<Record<string, string[]>>,
): PredicateVariable<C> | undefined {
  if (path.length < prefix.length || prefix.some((p, i) => path[i] !== p)) return undefined;
  if (path.length === prefix.length) return { type: 'map', get };
  if (path.length === prefix.length + 1) {
    const key = path[prefix.length];
    return { type: 'list', get: (ctx) => get(ctx)[key] };
  }
  return undefined;
}

/** What `review_requests.where` and threshold `filter` expressions can see (Teleport's names). */
export interface ReviewContext {
  reviewer: { roles: string[]; traits: Readonly<Record<string, string[]>> };
  /** Absent for `where` (review permission) expressions. */
  review?: { reason: string; annotations: Readonly<Record<string, string[]>> };
  request: { roles: string[]; reason: string; systemAnnotations: Readonly<Record<string, string[]>> };
}

/** `equals(a, b)`: the same string, or lists equal item by item; shared by every environment. */
export const EQUALS: PredicateFunction<unknown> = {
  params: ['any', 'any'],
  result: 'bool',
  call: ([a, b]) => {
    if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
    return typeof a === 'string' && a === b;
  },
};

function regexpMatchAny(list: readonly string[], re: string): boolean {
  let compiled: RegExp;
  try {
    compiled = new RegExp(re);
  } catch {
    // An invalid pattern matches nothing rather than failing a review or a listing.
    return false;
  }
  return list.some((v) => compiled.test(v));
}

/**
 * The environment of review `where` clauses (`withReview` false) and threshold filters
 * (`withReview` true): variables `reviewer.roles`, `reviewer.traits`, `request.roles`,
 * `request.reason`, `request.system_annotations` (and `review.reason`, `review.annotations`),
 * functions `equals`, `contains`, `regexp.match`.
 */
export function reviewEnv(withReview: boolean): PredicateEnv<ReviewContext> {
  return {
    variable(path) {
      const key = path.join('.');
      if (key === 'reviewer.roles') return { type: 'list', get: (c) => c.reviewer.roles };
      if (key === 'request.roles') return { type: 'list', get: (c) => c.request.roles };
      if (key === 'request.reason') return { type: 'string', get: (c) => c.request.reason };
      if (withReview && key === 'review.reason')
        return { type: 'string', get: (c) => c.review?.reason ?? '' };
      return (
        mapOfLists<ReviewContext>(['reviewer', 'traits'], path, (c) => c.reviewer.traits) ??
        mapOfLists<ReviewContext>(
          ['request', 'system_annotations'],
          path,
          (c) => c.request.systemAnnotations,
        ) ??
        (withReview
          ? mapOfLists<ReviewContext>(['review', 'annotations'], path, (c) => c.review?.annotations ?? {})
          : undefined)
      );
    },
    functions: {
      equals: EQUALS,
      contains: {
        params: ['list', 'string'],
        result: 'bool',
        call: ([list, v]) => (list as string[]).includes(v as string),
      },
      'regexp.match': {
        params: ['list', 'string'],
        result: 'bool',
        call: ([list, re]) => regexpMatchAny(list as string[], re as string),
      },
    },
  };
}

/**
 * Whether every keyword occurs (case-insensitively, as a substring) in one of the resource's
 * searchable fields: name, hostname, address, label keys and values, and for Kubernetes
 * objects their namespace and kind. Teleport's SearchKeywords and `search()` semantics.
 */
export function matchesKeywords(r: Resource, keywords: readonly string[]): boolean {
  const fields = [r.name, r.hostname, r.addr, r.namespace, r.kubeKind, r.kubeCluster]
    .concat(Object.entries(r.labels).flat())
    .filter((f): f is string => typeof f === 'string' && f !== '')
    .map((f) => f.toLowerCase());
  return keywords.every((k) => {
    const kw = k.toLowerCase();
    return kw === '' || fields.some((f) => f.includes(kw));
  });
}

function labelVariable(
  path: readonly string[],
  prefixLength: number,
): PredicateVariable<Resource> | undefined {
  if (path.length === prefixLength) return { type: 'map', get: (r) => r.labels };
  if (path.length === prefixLength + 1) {
    const key = path[prefixLength];
    return { type: 'string', get: (r) => (Object.hasOwn(r.labels, key) ? r.labels[key] : undefined) };
  }
  return undefined;
}

/**
 * The environment of ListResources' PredicateExpression: `name` (`resource.metadata.name`),
 * `hostname` (`resource.spec.hostname`), `labels` / `labels.k` / `labels["k"]`
 * (`resource.metadata.labels…`), and the functions `search(kw, …)`, `hasPrefix(s, prefix)`
 * and `exists(labels.k)`.
 */
export const RESOURCE_PREDICATE_ENV: PredicateEnv<Resource> = {
  variable(path) {
    const key = path.join('.');
    if (key === 'name' || key === 'resource.metadata.name') return { type: 'string', get: (r) => r.name };
    if (key === 'hostname' || key === 'resource.spec.hostname') {
      return { type: 'string', get: (r) => r.hostname };
    }
    if (path[0] === 'labels') return labelVariable(path, 1);
    if (path[0] === 'resource' && path[1] === 'metadata' && path[2] === 'labels')
      return labelVariable(path, 3);
    return undefined;
  },
  functions: {
    search: {
      params: ['string'],
      variadic: 'string',
      minArgs: 1,
      result: 'bool',
      call: (args, r) => matchesKeywords(r, args as string[]),
    },
    hasPrefix: {
      params: ['string', 'string'],
      result: 'bool',
      call: ([s, prefix]) => (s as string).startsWith(prefix as string),
    },
    exists: {
      params: ['any'],
      variableArgs: true,
      result: 'bool',
      call: ([v]) => v !== undefined,
    },
  },
};

/** Compiles a ListResources PredicateExpression; throws PredicateError when it is not supported. */
export function compileResourcePredicate(source: string): (r: Resource) => boolean {
  return compilePredicate(source, RESOURCE_PREDICATE_ENV);
}
