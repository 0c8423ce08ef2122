/**
 * Type-checks a parsed expression against an environment and compiles it to a closure.
 */
import type { PredicateEnv, PredicateFunction, PredicateValue, ValueType } from './env.js';
import { type Node, PredicateError, parsePredicate } from './parse.js';

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
  const ast = parsePredicate(source);
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
  const ast = parsePredicate(source);
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
