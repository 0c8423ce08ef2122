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

/** A parsed expression. */
export type Node = Partial<Span> &
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

/** Parses `source` into its syntax tree; throws a PredicateError for a syntax error. */
export function parsePredicate(source: string): Node {
  return new Parser(tokenize(source)).parse();
}
