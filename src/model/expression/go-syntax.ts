/**
 * The syntax of Teleport's typed predicate expressions: one Go expression, as
 * github.com/gravitational/predicate (parse.go, `Parse`) reads it with Go's
 * `go/parser.ParseExpr`. Scanning and precedence follow go/scanner and go/parser; a syntax
 * error reads as Go's first error, `LINE:COLUMN: message` (column in bytes, 1-based).
 *
 * Constructs Go accepts but predicate refuses (`a[1:2]`, `x.(T)`, `*x`, composite and function
 * literals) become `unsupported` nodes, refused when the tree is built, as predicate does with
 * `%T is not supported`.
 */

/** A syntax error, with Go's text. */
export class GoSyntaxError extends Error {
  override readonly name = 'GoSyntaxError';
}

export type GoNode = { start: number; end: number } & (
  | { k: 'ident'; name: string }
  | { k: 'lit'; kind: 'INT' | 'FLOAT' | 'IMAG' | 'CHAR' | 'STRING'; raw: string; value: string }
  | { k: 'binary'; op: string; x: GoNode; y: GoNode }
  | { k: 'unary'; op: string; x: GoNode }
  | { k: 'paren'; x: GoNode }
  | { k: 'selector'; x: GoNode; sel: string }
  | { k: 'index'; x: GoNode; index: GoNode }
  | { k: 'call'; fun: GoNode; args: GoNode[] }
  /** A Go construct predicate has no case for: `goType` is its go/ast type name. */
  | { k: 'unsupported'; goType: string }
);

type Tok = { t: string; lit: string; pos: number; end: number };

const KEYWORDS = new Set([
  'break',
  'case',
  'chan',
  'const',
  'continue',
  'default',
  'defer',
  'else',
  'fallthrough',
  'for',
  'func',
  'go',
  'goto',
  'if',
  'import',
  'interface',
  'map',
  'package',
  'range',
  'return',
  'select',
  'struct',
  'switch',
  'type',
  'var',
]);

// Longest first, as go/scanner picks them.
const OPERATORS = [
  '<<=',
  '>>=',
  '&^=',
  '...',
  '&&',
  '||',
  '<-',
  '++',
  '--',
  '==',
  '!=',
  '<=',
  '>=',
  ':=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '<<',
  '>>',
  '&^',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  '^',
  '<',
  '>',
  '=',
  '!',
  '~',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ';',
  '.',
  ':',
];

/** go/token: Token.Precedence. */
const PRECEDENCE: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '|': 4,
  '^': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  '<<': 5,
  '>>': 5,
  '&': 5,
  '&^': 5,
};

const IDENT_START = /[\p{L}_]/u;
const IDENT = /[\p{L}_][\p{L}\p{Nd}_]*/uy;
const NUMBER =
  /(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?|0[bB][01_]*|0[oO][0-7_]*|(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?)i?/y;

/**
 * The deepest nesting the parser follows (parentheses, unary operators, call arguments,
 * operands on the right of a binary operator). go/parser stops at 100,000 levels
 * ("exceeded max nesting depth"); our stack is smaller, so we stop sooner.
 */
export const MAX_NESTING = 200;

class Scanner {
  private i = 0;
  /** Whether a newline here ends the expression (go/scanner's `insertSemi`). */
  private semi = false;
  constructor(private readonly src: string) {}

  where(pos: number): string {
    let line = 1;
    let lineStart = 0;
    // go/token File.AddLine: a newline that ends the source starts no line.
    for (let j = 0; j < pos && j < this.src.length - 1; j += 1) {
      if (this.src[j] === '\n') {
        line += 1;
        lineStart = j + 1;
      }
    }
    return `${line}:${Buffer.byteLength(this.src.slice(lineStart, pos)) + 1}`;
  }

  fail(pos: number, msg: string): never {
    throw new GoSyntaxError(`${this.where(pos)}: ${msg}`);
  }

  next(): Tok {
    const src = this.src;
    for (;;) {
      const c = src[this.i];
      if (c === ' ' || c === '\t' || c === '\r' || (c === '\n' && !this.semi)) {
        this.i += 1;
        continue;
      }
      // go/scanner: the semicolon a comment ends with stands where its newline is.
      if (c === '/' && src[this.i + 1] === '/') {
        const nl = src.indexOf('\n', this.i);
        if (this.semi) {
          const pos = nl < 0 ? src.length : nl;
          this.i = nl < 0 ? src.length : nl + 1;
          this.semi = false;
          return { t: ';', lit: '\n', pos, end: pos };
        }
        this.i = nl < 0 ? src.length : nl + 1;
        continue;
      }
      if (c === '/' && src[this.i + 1] === '*') {
        const close = src.indexOf('*/', this.i + 2);
        if (close < 0) this.fail(this.i, 'comment not terminated');
        const nl = src.indexOf('\n', this.i);
        const hasNewline = nl >= 0 && nl < close;
        const pos = nl;
        this.i = close + 2;
        if (hasNewline && this.semi) {
          this.semi = false;
          return { t: ';', lit: '\n', pos, end: pos };
        }
        continue;
      }
      break;
    }
    const pos = this.i;
    if (pos >= src.length) {
      if (this.semi) {
        this.semi = false;
        return { t: ';', lit: '\n', pos, end: pos };
      }
      return { t: 'EOF', lit: '', pos, end: pos };
    }
    const c = src[pos];
    if (c === '\n') {
      this.i += 1;
      this.semi = false;
      return { t: ';', lit: '\n', pos, end: pos };
    }
    const tok = this.scan(pos, c);
    this.semi =
      tok.t === 'IDENT' ||
      tok.t === 'INT' ||
      tok.t === 'FLOAT' ||
      tok.t === 'IMAG' ||
      tok.t === 'CHAR' ||
      tok.t === 'STRING' ||
      tok.t === ')' ||
      tok.t === ']' ||
      tok.t === '}' ||
      tok.t === '++' ||
      tok.t === '--' ||
      ['break', 'continue', 'fallthrough', 'return'].includes(tok.t);
    return tok;
  }

  private scan(pos: number, c: string): Tok {
    const src = this.src;
    if (IDENT_START.test(c)) {
      IDENT.lastIndex = pos;
      const name = IDENT.exec(src)![0];
      this.i = pos + name.length;
      return { t: KEYWORDS.has(name) ? name : 'IDENT', lit: name, pos, end: this.i };
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[pos + 1] ?? ''))) {
      NUMBER.lastIndex = pos;
      const raw = NUMBER.exec(src)![0];
      this.i = pos + raw.length;
      const t = raw.endsWith('i')
        ? 'IMAG'
        : /^0[xX]/.test(raw)
          ? /[.pP]/.test(raw)
            ? 'FLOAT'
            : 'INT'
          : /[.eE]/.test(raw)
            ? 'FLOAT'
            : 'INT';
      return { t, lit: raw, pos, end: this.i };
    }
    if (c === '"') return this.string(pos);
    if (c === '`') {
      const close = src.indexOf('`', pos + 1);
      if (close < 0) this.fail(pos, 'raw string literal not terminated');
      this.i = close + 1;
      return { t: 'STRING', lit: src.slice(pos, this.i), pos, end: this.i };
    }
    if (c === "'") {
      let j = pos + 1;
      while (j < src.length && src[j] !== "'" && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      if (src[j] !== "'") this.fail(pos, 'rune literal not terminated');
      this.i = j + 1;
      const body = src.slice(pos + 1, j);
      if (body === '') this.fail(pos, "empty rune literal or unescaped ' in rune literal");
      const escapeRe = /^\\(?:[abfnrtv\\']|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3})$/;
      if (body.startsWith('\\') ? !escapeRe.test(body) : [...body].length !== 1)
        this.fail(pos, 'illegal rune literal');
      return { t: 'CHAR', lit: src.slice(pos, this.i), pos, end: this.i };
    }
    const op = OPERATORS.find((o) => src.startsWith(o, pos));
    if (op) {
      this.i = pos + op.length;
      return { t: op, lit: op, pos, end: this.i };
    }
    const cp = src.codePointAt(pos)!;
    const hex = cp.toString(16).toUpperCase().padStart(4, '0');
    this.fail(pos, `illegal character U+${hex} '${String.fromCodePoint(cp)}'`);
  }

  /**
   * go/scanner scanEscape, `at` the character after the backslash; returns the offset after the
   * escape. A string that ends inside one is reported as not terminated (that error comes first).
   */
  private escape(stringStart: number, at: number): number {
    const src = this.src;
    const e = src[at];
    const unterminated = (ch: string | undefined) => ch === undefined || ch === '\n';
    if (unterminated(e)) this.fail(stringStart, 'string literal not terminated');
    if ('abfnrtv\\"'.includes(e)) return at + 1;
    let n: number;
    let base: number;
    let max: number;
    let from = at + 1;
    if (/[0-7]/.test(e)) {
      [n, base, max, from] = [3, 8, 255, at];
    } else if (e === 'x') [n, base, max] = [2, 16, 255];
    else if (e === 'u') [n, base, max] = [4, 16, 0x10ffff];
    else if (e === 'U') [n, base, max] = [8, 16, 0x10ffff];
    else this.fail(at, 'unknown escape sequence');
    let x = 0;
    for (let k = from; k < from + n; k += 1) {
      const ch = src[k];
      const d = ch === undefined ? Number.NaN : Number.parseInt(ch, 16);
      if (!(d < base)) {
        if (unterminated(ch)) this.fail(stringStart, 'string literal not terminated');
        const cp = src.codePointAt(k)!;
        const hex = cp.toString(16).toUpperCase().padStart(4, '0');
        const printable = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(String.fromCodePoint(cp));
        this.fail(
          k,
          `illegal character U+${hex}${printable ? ` '${String.fromCodePoint(cp)}'` : ''} in escape sequence`,
        );
      }
      x = x * base + d;
    }
    if (x > max || (x >= 0xd800 && x < 0xe000))
      this.fail(at, 'escape sequence is invalid Unicode code point');
    return from + n;
  }

  /** A double-quoted literal; escapes are checked as go/scanner does. */
  private string(pos: number): Tok {
    const src = this.src;
    let j = pos + 1;
    for (;;) {
      const c = src[j];
      if (c === undefined || c === '\n') this.fail(pos, 'string literal not terminated');
      if (c === '"') break;
      if (c === '\\') {
        j = this.escape(pos, j + 1);
        continue;
      }
      j += 1;
    }
    this.i = j + 1;
    return { t: 'STRING', lit: src.slice(pos, this.i), pos, end: this.i };
  }
}

/** strconv.Unquote of a scanned STRING literal (already checked by the scanner). */
function unquote(raw: string): string {
  if (raw.startsWith('`')) return raw.slice(1, -1).replaceAll('\r', '');
  const bytes: number[] = [];
  const push = (s: string) => bytes.push(...Buffer.from(s, 'utf8'));
  const body = raw.slice(1, -1);
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 };
  for (let i = 0; i < body.length; ) {
    const c = body[i];
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      push(String.fromCodePoint(cp));
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1];
    if (Object.hasOwn(simple, e)) {
      bytes.push(simple[e]);
      i += 2;
    } else if (e === 'x') {
      bytes.push(Number.parseInt(body.slice(i + 2, i + 4), 16));
      i += 4;
    } else if (e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : 8;
      const cp = Number.parseInt(body.slice(i + 2, i + 2 + n), 16);
      push(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\ufffd');
      i += 2 + n;
    } else {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 4), 8));
      i += 4;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

class Parser {
  private tok: Tok;
  private depth = 0;
  constructor(private readonly s: Scanner) {
    this.tok = s.next();
  }

  private next(): void {
    this.tok = this.s.next();
  }

  /** The current token's type (a call, so the compiler does not narrow it across `next`). */
  private cur(): string {
    return this.tok.t;
  }

  /** go/parser: errorExpected, with what was found at the current position. */
  private expected(what: string): never {
    const t = this.tok;
    let found: string;
    if (t.t === ';' && t.lit === '\n') found = 'newline';
    else if (['IDENT', 'INT', 'FLOAT', 'IMAG', 'CHAR', 'STRING'].includes(t.t)) found = t.lit;
    else found = `'${t.t === 'EOF' ? 'EOF' : t.t}'`;
    this.s.fail(t.pos, `expected ${what}, found ${found}`);
  }

  private nest<T>(f: () => T): T {
    this.deeper();
    try {
      return f();
    } finally {
      this.depth -= 1;
    }
  }

  parseExpression(): GoNode {
    const x = this.binary(1);
    if (this.cur() === ';' && this.tok.lit === '\n') this.next();
    if (this.cur() !== 'EOF') this.expected("'EOF'");
    return x;
  }

  private expr(): GoNode {
    return this.nest(() => this.binary(1));
  }

  /** go/parser parseBinaryExpr: a chain of one precedence is a loop, so it builds left-deep. */
  private binary(prec1: number): GoNode {
    let x = this.unary();
    for (;;) {
      const op = this.cur();
      // go/parser tokPrec: in an expression, `=` is taken for a mistyped `==`.
      if (op === '=') this.expected("'=='");
      const prec = PRECEDENCE[op] ?? 0;
      if (prec < prec1) return x;
      this.next();
      const y = this.nest(() => this.binary(prec + 1));
      x = { k: 'binary', op, x, y, start: x.start, end: y.end };
    }
  }

  private unary(): GoNode {
    const t = this.tok;
    if (['+', '-', '!', '^', '&', '~', '<-'].includes(t.t)) {
      this.next();
      const x = this.nest(() => this.unary());
      return { k: 'unary', op: t.t, x, start: t.pos, end: x.end };
    }
    if (t.t === '*') {
      this.next();
      const x = this.nest(() => this.unary());
      return { k: 'unsupported', goType: '*ast.StarExpr', start: t.pos, end: x.end };
    }
    return this.primary();
  }

  /**
   * Each index or call suffix wraps what precedes it (`set("a").add("b").add("c")` is a call of
   * a call): it counts as one more level of nesting, as it is one more level of recursion later.
   */
  private primary(): GoNode {
    const depth = this.depth;
    try {
      return this.primarySuffixes();
    } finally {
      this.depth = depth;
    }
  }

  private deeper(): void {
    if (this.depth >= MAX_NESTING) {
      throw new GoSyntaxError(`expression is nested too deeply (more than ${MAX_NESTING} levels)`);
    }
    this.depth += 1;
  }

  private primarySuffixes(): GoNode {
    let x = this.operand();
    for (;;) {
      if (this.cur() === '[' || this.cur() === '(') this.deeper();
      const t = this.tok;
      if (t.t === '.') {
        this.next();
        if (this.cur() === 'IDENT') {
          const sel = this.tok;
          this.next();
          x = { k: 'selector', x, sel: sel.lit, start: x.start, end: sel.end };
        } else if (this.cur() === '(') {
          this.next();
          if (this.cur() === 'type') this.next();
          else this.nest(() => this.expr());
          const close = this.expect(')');
          x = { k: 'unsupported', goType: '*ast.TypeAssertExpr', start: x.start, end: close.end };
        } else {
          this.expected('selector or type assertion');
        }
      } else if (t.t === '[') {
        this.next();
        let index: GoNode | undefined;
        if (this.cur() !== ':') index = this.nest(() => this.expr());
        if (this.cur() === ':' || this.cur() === ',') {
          const goType = this.cur() === ':' ? '*ast.SliceExpr' : '*ast.IndexListExpr';
          while (this.cur() !== ']' && this.cur() !== 'EOF') {
            this.next();
            if (this.cur() !== ']' && this.cur() !== ':' && this.cur() !== ',') this.nest(() => this.expr());
          }
          const close = this.expect(']');
          x = { k: 'unsupported', goType, start: x.start, end: close.end };
        } else {
          const close = this.expect(']');
          x = { k: 'index', x, index: index!, start: x.start, end: close.end };
        }
      } else if (t.t === '(') {
        this.next();
        const args: GoNode[] = [];
        this.nest(() => {
          while (this.cur() !== ')' && this.cur() !== 'EOF') {
            args.push(this.expr());
            if (this.cur() === '...') this.next();
            if (!this.atComma('argument list', ')')) break;
            this.next();
          }
        });
        const close = this.expect(')');
        x = { k: 'call', fun: x, args, start: x.start, end: close.end };
      } else if (
        t.t === '{' &&
        (x.k === 'ident' ||
          (x.k === 'selector' && x.x.k === 'ident') ||
          (x.k === 'unsupported' && ['*ast.ArrayType', '*ast.MapType', '*ast.StructType'].includes(x.goType)))
      ) {
        this.skipBraces();
        x = { k: 'unsupported', goType: '*ast.CompositeLit', start: x.start, end: this.tok.pos };
      } else {
        return x;
      }
    }
  }

  private operand(): GoNode {
    const t = this.tok;
    switch (t.t) {
      case 'IDENT':
        this.next();
        return { k: 'ident', name: t.lit, start: t.pos, end: t.end };
      case 'INT':
      case 'FLOAT':
      case 'IMAG':
      case 'CHAR':
        this.next();
        return { k: 'lit', kind: t.t, raw: t.lit, value: t.lit, start: t.pos, end: t.end };
      case 'STRING':
        this.next();
        return { k: 'lit', kind: 'STRING', raw: t.lit, value: unquote(t.lit), start: t.pos, end: t.end };
      case '(': {
        this.next();
        const x = this.nest(() => this.expr());
        const close = this.expect(')');
        return { k: 'paren', x, start: t.pos, end: close.end };
      }
      case 'func': {
        // go/parser parseFuncTypeOrLit.
        this.next();
        this.signature();
        if (this.cur() !== '{')
          return { k: 'unsupported', goType: '*ast.FuncType', start: t.pos, end: this.tok.pos };
        this.skipBraces();
        return { k: 'unsupported', goType: '*ast.FuncLit', start: t.pos, end: this.tok.pos };
      }
      case 'map':
      case 'chan':
      case 'struct':
      case 'interface':
      case '[':
        // A type (for a composite literal or a conversion): Go parses it, predicate refuses it.
        return this.nest(() => this.type());
      default:
        this.expected('operand');
    }
  }

  /** go/parser parseType (tryIdentOrType, or `expected type`). */
  private type(): GoNode {
    const t = this.tok;
    const node = (goType: string): GoNode => ({ k: 'unsupported', goType, start: t.pos, end: this.tok.pos });
    switch (t.t) {
      case 'IDENT': {
        this.next();
        let x: GoNode = { k: 'ident', name: t.lit, start: t.pos, end: t.end };
        if (this.cur() === '.') {
          this.next();
          const sel = this.expect('IDENT');
          x = { k: 'selector', x, sel: sel.lit, start: t.pos, end: sel.end };
        }
        return x;
      }
      case '[':
        this.next();
        if (this.cur() === ']') {
          this.next();
        } else {
          if (this.cur() === '...') this.next();
          else this.nest(() => this.expr());
          this.expect(']');
        }
        this.nest(() => this.type());
        return node('*ast.ArrayType');
      case 'map':
        this.next();
        this.expect('[');
        this.nest(() => this.type());
        this.expect(']');
        this.nest(() => this.type());
        return node('*ast.MapType');
      case 'chan':
        this.next();
        if (this.cur() === '<-') this.next();
        this.nest(() => this.type());
        return node('*ast.ChanType');
      case 'struct':
      case 'interface':
        this.next();
        if (this.cur() !== '{') this.expected("'{'");
        this.skipBraces();
        return node(t.t === 'struct' ? '*ast.StructType' : '*ast.InterfaceType');
      case 'func':
        this.next();
        this.signature();
        return node('*ast.FuncType');
      case '*':
        this.next();
        this.nest(() => this.type());
        return node('*ast.StarExpr');
      case '(': {
        this.next();
        const x = this.nest(() => this.type());
        this.expect(')');
        return x;
      }
      default:
        this.expected('type');
    }
  }

  /** A function signature: parameters (skipped as a balanced list) and an optional result. */
  private signature(): void {
    if (this.cur() !== '(') this.expected("'('");
    this.skipBalanced('(', ')');
    if (this.cur() === '(') this.skipBalanced('(', ')');
    else if (['IDENT', '[', 'map', 'chan', 'struct', 'interface', 'func', '*'].includes(this.cur())) {
      this.nest(() => this.type());
    }
  }

  private skipBalanced(open: string, close: string): void {
    let level = 0;
    do {
      if (this.cur() === open) level += 1;
      if (this.cur() === close) level -= 1;
      if (this.cur() === 'EOF') this.expected(`'${close}'`);
      this.next();
    } while (level > 0);
  }

  private skipBraces(): void {
    let level = 0;
    do {
      if (this.cur() === '{') level += 1;
      if (this.cur() === '}') level -= 1;
      if (this.cur() === 'EOF') this.expected("'}'");
      this.next();
    } while (level > 0);
  }

  private expect(t: string): Tok {
    const tok = this.tok;
    if (tok.t !== t) this.expected(`'${t}'`);
    this.next();
    return tok;
  }

  /** go/parser atComma: a comma, the closer, or a missing comma (named, with a newline if one is there). */
  private atComma(context: string, follow: string): boolean {
    if (this.cur() === ',') return true;
    if (this.cur() === follow) return false;
    const newline = this.cur() === ';' && this.tok.lit === '\n' ? ' before newline' : '';
    this.s.fail(this.tok.pos, `missing ','${newline} in ${context}`);
  }
}

/** go/parser.ParseExpr of `source`; throws a GoSyntaxError with Go's message. */
export function parseGoExpression(source: string): GoNode {
  return new Parser(new Scanner(source)).parseExpression();
}
