/**
 * Teleport's typed predicate parser: lib/utils/typical/parser.go over
 * github.com/gravitational/predicate (parse.go). The Go expression is walked as predicate
 * walks it (operands before operators, a call's function before its arguments) and each node
 * is built as typical builds it: arguments are coerced to the parameter types at parse time
 * (`coerce`), a value typed `any` is checked when evaluated. Messages are typical's.
 */
import { type GoNode, GoSyntaxError, parseGoExpression } from './go-syntax.js';
import { ExprDict, ExprSet, GoFloat, GoTime, goTypeOf, goValue, TraceError, wrapped } from './values.js';

/** The Go result types an expression can have, by their reflect names. */
export type GoType =
  | 'string'
  | 'int'
  | 'float64'
  | 'bool'
  | 'expression.Set'
  | 'expression.Dict'
  | 'time.Time'
  | 'expression.pair'
  | 'expression.option'
  | 'interface {}'
  | 'expression.remover';

export const ANY: GoType = 'interface {}';

/**
 * What predicate hands between nodes: a literal value, or an expression with its static result
 * type (`dynamicMap` for a map variable that can be indexed).
 */
export type Built<E> =
  | { lit: true; type: GoType; value: unknown }
  | { lit: false; type: GoType; run: (env: E) => unknown; dynamicMap?: (env: E) => ExprDict };

export type Kind = 'unary' | 'binary' | 'ternary' | 'unaryVariadic' | 'binaryVariadic' | 'ternaryVariadic';

/** A function or method (typical's Unary/Binary/Ternary(Variadic)Function). */
export interface TypedFunction<E> {
  kind: Kind;
  params: GoType[];
  variadic?: GoType;
  result: GoType;
  impl(args: unknown[], env: E): unknown;
}

export interface ParserSpec<E> {
  variables: Record<string, Built<E>>;
  functions: Record<string, TypedFunction<E>>;
  methods: Record<string, TypedFunction<E>>;
}

function bad(msg: string): TraceError {
  return new TraceError(msg);
}

function isInstance(v: unknown, type: GoType): boolean {
  if (type === ANY) return true;
  if (type === 'expression.remover') return v instanceof ExprSet || v instanceof ExprDict;
  return goTypeOf(v) === type;
}

/** typical: unexpectedTypeError. */
function unexpected<E>(want: GoType, arg: Built<E> | { value: unknown }): TraceError {
  if ('run' in arg) return bad(`expected type ${want}, got expression returning type (${arg.type})`);
  return bad(`expected type ${want}, got value (${goValue(arg.value)}) with type (${goTypeOf(arg.value)})`);
}

/** typical: coerce, at parse time; the returned function evaluates to a value of `want`. */
function coerce<E>(arg: Built<E>, want: GoType): (env: E) => unknown {
  if (!arg.lit) {
    const run = arg.run;
    if (arg.type === want) return run;
    if (arg.type === ANY) {
      return (env) => {
        const v = run(env);
        if (isInstance(v, want)) return v;
        throw unexpected(want, { value: v });
      };
    }
    // An expression of another type passes only where an interface it implements is wanted.
    if (
      want === ANY ||
      (want === 'expression.remover' && ['expression.Set', 'expression.Dict'].includes(arg.type))
    ) {
      return run;
    }
    throw unexpected(want, arg);
  }
  if (isInstance(arg.value, want)) {
    const v = arg.value;
    return () => v;
  }
  throw unexpected(want, arg);
}

const ORDINALS = ['first', 'second', 'third'];

/** typical: each Function's buildExpression, with its arity and argument messages. */
function buildCall<E>(name: string, fn: TypedFunction<E>, args: Built<E>[]): Built<E> {
  const n = args.length;
  const fixed = fn.params.length;
  let parseMsg: (i: number) => string;
  let evalMsg: (i: number) => string;
  switch (fn.kind) {
    case 'unary':
    case 'binary':
    case 'ternary': {
      if (n !== fixed) {
        throw bad(`function (${name}) accepts ${fixed} argument${fixed === 1 ? '' : 's'}, given ${n}`);
      }
      parseMsg = (i) =>
        fn.kind === 'unary'
          ? `parsing argument to (${name})`
          : `parsing ${ORDINALS[i]} argument to (${name})`;
      evalMsg = (i) =>
        fn.kind === 'unary'
          ? `evaluating argument to function (${name})`
          : `evaluating ${ORDINALS[i]} argument to function (${name})`;
      break;
    }
    case 'unaryVariadic':
      parseMsg = (i) => `parsing argument ${i + 1} to function (${name})`;
      evalMsg = (i) => `evaluating argument ${i + 1} to function (${name})`;
      break;
    default: {
      if (fn.kind === 'binaryVariadic' && n === 0) {
        throw bad(`function (${name}) accepts 1 or more argument, given ${n}`);
      }
      if (fn.kind === 'ternaryVariadic' && n < 2) {
        throw bad(`function (${name}) accepts 2 or more arguments, given ${n}`);
      }
      parseMsg = (i) =>
        i < fixed
          ? `parsing ${ORDINALS[i]} argument to function (${name})`
          : `parsing argument ${i + 1} to function (${name})`;
      evalMsg = (i) =>
        i < fixed
          ? `evaluating ${ORDINALS[i]} argument to function (${name})`
          : `evaluating argument ${i + 1} to function (${name})`;
    }
  }
  const runs = args.map((a, i) => wrapped(parseMsg(i), () => coerce(a, fn.params[i] ?? fn.variadic!)));
  return {
    lit: false,
    type: fn.result,
    run: (env) => {
      const values = runs.map((r, i) => wrapped(evalMsg(i), () => r(env)));
      return wrapped(`evaluating function (${name})`, () => fn.impl(values, env));
    },
  };
}

/** typical: and / or (booleanOperator over bool, short-circuit). */
function logical<E>(op: '&&' | '||', lhs: Built<E>, rhs: Built<E>): Built<E> {
  const l = wrapped(`parsing lhs of (${op}) operator`, () => coerce(lhs, 'bool'));
  const r = wrapped(`parsing rhs of (${op}) operator`, () => coerce(rhs, 'bool'));
  const and = op === '&&';
  return {
    lit: false,
    type: 'bool',
    run: (env) => {
      const a = wrapped(`evaluating lhs of (${op}) operator`, () => l(env));
      if (a === !and) return a;
      return wrapped(`evaluating rhs of (${op}) operator`, () => r(env));
    },
  };
}

/** typical: eq / neq — strings or ints, the type taken from the left operand unless it is `any`. */
function equality<E>(op: '==' | '!=', lhs: Built<E>, rhs: Built<E>): Built<E> {
  const operand = !lhs.lit && lhs.type === ANY ? rhs : lhs;
  let type: GoType;
  if (operand.type === 'string' || operand.type === 'int') type = operand.type;
  else if (!operand.lit && operand.type === ANY) {
    throw bad(`operator (${op}) can only be used when at least one operand type is known at compile-time`);
  } else throw bad(`operator (${op}) not supported for type: ${operand.type}`);
  const l = wrapped(`parsing lhs of (${op}) operator`, () => coerce(lhs, type));
  const r = wrapped(`parsing rhs of (${op}) operator`, () => coerce(rhs, type));
  const eq = op === '==';
  return {
    lit: false,
    type: 'bool',
    run: (env) => {
      const a = wrapped(`evaluating lhs of (${op}) operator`, () => l(env));
      const b = wrapped(`evaluating rhs of (${op}) operator`, () => r(env));
      return (a === b) === eq;
    },
  };
}

function not<E>(x: Built<E>): Built<E> {
  const t = wrapped('parsing target of (!) operator', () => coerce(x, 'bool'));
  return {
    lit: false,
    type: 'bool',
    run: (env) => !wrapped('evaluating target of (!) operator', () => t(env)),
  };
}

/** go/ast type names, for predicate's `%T` messages. */
function astType(n: GoNode): string {
  switch (n.k) {
    case 'ident':
      return '*ast.Ident';
    case 'lit':
      return '*ast.BasicLit';
    case 'binary':
      return '*ast.BinaryExpr';
    case 'unary':
      return '*ast.UnaryExpr';
    case 'paren':
      return '*ast.ParenExpr';
    case 'selector':
      return '*ast.SelectorExpr';
    case 'index':
      return '*ast.IndexExpr';
    case 'call':
      return '*ast.CallExpr';
    default:
      return n.goType;
  }
}

/** The typed parser of one expression language. */
export class TypedParser<E> {
  private readonly longest: number;
  constructor(private readonly spec: ParserSpec<E>) {
    this.longest = Math.max(0, ...Object.keys(spec.variables).map((k) => k.length));
  }

  /**
   * typical Parse: the built expression, or a TraceError with Teleport's messages
   * (`empty expression`, or `parsing expression` over the cause).
   */
  parse(source: string): { root: GoNode; expr: Built<E> } {
    if (source === '') throw bad('empty expression');
    let root: GoNode;
    try {
      root = parseGoExpression(source);
    } catch (err) {
      if (err instanceof GoSyntaxError) throw bad(err.message).wrap('parsing expression');
      throw err;
    }
    return { root, expr: wrapped('parsing expression', () => this.node(root)) };
  }

  /** Builds one node; also used for the parts of a condition to explain a mismatch. */
  node(n: GoNode): Built<E> {
    switch (n.k) {
      case 'binary':
        return this.binary(n);
      case 'paren':
        return this.node(n.x);
      case 'unary': {
        if (n.op !== '!') throw bad(`${n.op} is not supported`);
        return not(this.node(n.x));
      }
      case 'lit':
        return this.literal(n);
      case 'index': {
        const m = this.node(n.x);
        const key = this.node(n.index);
        return this.property(m, key);
      }
      case 'selector':
        return this.identifier(this.selectorFields(n));
      case 'ident':
        return this.identifier([n.name]);
      case 'call':
        return this.call(n);
      default:
        throw bad(`${n.goType} is not supported`);
    }
  }

  /**
   * A chain of binary operators is built left to right in a loop: Go's parser makes `a || b || c`
   * left-deep, and recursing down its spine would exhaust our stack on a long condition.
   */
  private binary(top: GoNode & { k: 'binary' }): Built<E> {
    const spine: (GoNode & { k: 'binary' })[] = [];
    let left: GoNode = top;
    while (left.k === 'binary') {
      spine.push(left);
      left = left.x;
    }
    let acc = this.node(left);
    for (let i = spine.length - 1; i >= 0; i -= 1) {
      const { op, y } = spine[i];
      const rhs = this.node(y);
      switch (op) {
        case '&&':
        case '||':
          acc = logical(op, acc, rhs);
          break;
        case '==':
        case '!=':
          acc = equality(op, acc, rhs);
          break;
        default:
          throw bad(`${op} is not supported`);
      }
    }
    return acc;
  }

  /** predicate: literalToValue. */
  private literal(n: GoNode & { k: 'lit' }): Built<E> {
    switch (n.kind) {
      case 'STRING':
        return { lit: true, type: 'string', value: n.value };
      case 'INT': {
        const v = /^[+-]?[0-9]+$/.test(n.raw) ? Number(n.raw) : Number.NaN;
        if (!Number.isSafeInteger(v)) {
          const why = Number.isNaN(v) ? 'invalid syntax' : 'value out of range';
          throw bad(`failed to parse argument: ${n.raw}, error: strconv.Atoi: parsing "${n.raw}": ${why}`);
        }
        return { lit: true, type: 'int', value: v };
      }
      case 'FLOAT': {
        const v = Number(n.raw.replaceAll('_', ''));
        if (Number.isNaN(v)) {
          throw bad(
            `failed to parse argument: ${n.raw}, error: strconv.ParseFloat: parsing "${n.raw}": invalid syntax`,
          );
        }
        return { lit: true, type: 'float64', value: new GoFloat(v) };
      }
      default:
        throw bad(`unsupported function argument type: '${n.kind}'`);
    }
  }

  /** predicate: evaluateSelector. */
  private selectorFields(n: GoNode & { k: 'selector' }): string[] {
    const fields = [n.sel];
    let x: GoNode = n.x;
    while (x.k === 'selector') {
      fields.unshift(x.sel);
      x = x.x;
    }
    if (x.k !== 'ident') throw bad(`unsupported selector type: ${astType(x)}`);
    fields.unshift(x.name);
    return fields;
  }

  /** typical: getIdentifier — the longest known prefix, `map.key` for one remaining field. */
  private identifier(selector: string[]): Built<E> {
    let joined = '';
    for (let i = 0; i < selector.length; i += 1) {
      joined = joined ? `${joined}.${selector[i]}` : selector[i];
      // No variable is longer: skip the lookup (a long path would make it quadratic).
      if (joined.length > this.longest || !Object.hasOwn(this.spec.variables, joined)) continue;
      const v = this.spec.variables[joined];
      const remaining = selector.length - i - 1;
      if (remaining === 0) return v;
      if (remaining === 1) {
        try {
          return this.property(v, { lit: true, type: 'string', value: selector[i + 1] });
        } catch (err) {
          if (!(err instanceof TraceError)) throw err;
        }
      }
    }
    throw bad(`unknown identifier: ${JSON.stringify(joined)}`);
  }

  /** typical: getProperty — only a map variable can be indexed. */
  private property(m: Built<E>, key: Built<E>): Built<E> {
    const k = wrapped('parsing key of index expression', () => coerce(key, 'string'));
    if (m.lit || !m.dynamicMap) {
      throw unexpected('map[string]string' as GoType, m).wrap('cannot take index of unexpected type');
    }
    const get = m.dynamicMap;
    return {
      lit: false,
      type: 'expression.Set',
      run: (env) => {
        const key = wrapped('evaluating key of index expression', () => k(env)) as string;
        return get(env).get(key);
      },
    };
  }

  /** predicate: getFunctionAndArgs, then the function's buildExpression. */
  private call(n: GoNode & { k: 'call' }): Built<E> {
    const f = n.fun;
    let name: string;
    let fn: TypedFunction<E>;
    let argNodes = n.args;
    if (f.k === 'ident') {
      name = f.name;
      fn = this.fn(name);
    } else if (f.k === 'selector') {
      if (Object.hasOwn(this.spec.methods, f.sel)) {
        name = f.sel;
        fn = this.spec.methods[f.sel];
        argNodes = [f.x, ...n.args];
      } else {
        if (f.x.k !== 'ident') throw bad(`expected selector identifier, got: ${astType(f.x)}`);
        name = `${f.x.name}.${f.sel}`;
        fn = this.fn(name);
      }
    } else {
      throw bad(`unknown function type ${astType(f)}`);
    }
    const args = argNodes.map((a) => this.node(a));
    return buildCall(name, fn, args);
  }

  private fn(name: string): TypedFunction<E> {
    if (!Object.hasOwn(this.spec.functions, name)) throw bad(`unsupported function: ${name}`);
    return this.spec.functions[name];
  }
}

/** A dynamic variable (typical.DynamicVariable). */
export function variable<E>(type: GoType, get: (env: E) => unknown): Built<E> {
  return { lit: false, type, run: get };
}

/** A map variable (typical.DynamicMap): indexable, and an expression.Dict itself. */
export function mapVariable<E>(get: (env: E) => ExprDict): Built<E> {
  return { lit: false, type: 'expression.Dict', run: get, dynamicMap: get };
}

export { ExprDict, ExprSet, GoTime };
