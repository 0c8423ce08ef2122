// The build's check that every dynamic import in the bundle resolves the names its importer
// uses (scripts/bundle.mjs fails the build otherwise). esbuild's metafile says, for each source,
// which file each `import()` resolved to, and for each output file its exports and the source
// it was split out for (entryPoint); the importer's own source says which names it takes:
//
//   const { a, b } = await import('x')                  a, b
//   const [{ a }, { b }] = await Promise.all([import('x'), import('y')])
//   (await import('x')).a                                a
//   import('x').then(({ a }) => ...) / .then((m) => m.a)  a
//
// An import used any other way (passed on whole, as the manifest's loaders are) is accepted
// only when it is one of our TypeScript modules: esbuild keeps every export of an ES module,
// and tsc checks the names. A package imported that way is refused, since its chunk's exports
// depend on how esbuild wraps it: destructure it where it is imported.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * The names an `import()` call's result is used for, or undefined when the code does not say
 * (the promise or namespace goes somewhere else).
 */
function namesUsed(call) {
  const bindingNames = (pattern) =>
    ts.isObjectBindingPattern(pattern)
      ? pattern.elements.map((e) => (e.propertyName ?? e.name).getText())
      : undefined;
  const parent = call.parent;
  // import('x').then(({ a }) => ...) or .then((m) => m.a)
  if (
    ts.isPropertyAccessExpression(parent) &&
    parent.name.text === 'then' &&
    ts.isCallExpression(parent.parent)
  ) {
    const fn = parent.parent.arguments[0];
    if (fn && (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && fn.parameters.length > 0) {
      const param = fn.parameters[0].name;
      if (ts.isObjectBindingPattern(param)) return bindingNames(param);
      if (
        ts.isIdentifier(param) &&
        ts.isPropertyAccessExpression(fn.body) &&
        fn.body.expression.getText() === param.text
      ) {
        return [fn.body.name.text];
      }
    }
    return undefined;
  }
  // const [{ a }, { b }] = await Promise.all([import('x'), import('y')])
  if (ts.isArrayLiteralExpression(parent)) {
    const all = parent.parent;
    if (!ts.isCallExpression(all) || all.expression.getText() !== 'Promise.all') return undefined;
    const awaited = all.parent;
    if (!ts.isAwaitExpression(awaited) || !ts.isVariableDeclaration(awaited.parent)) return undefined;
    const pattern = awaited.parent.name;
    if (!ts.isArrayBindingPattern(pattern)) return undefined;
    const element = pattern.elements[parent.elements.indexOf(call)];
    return element && ts.isBindingElement(element) ? bindingNames(element.name) : undefined;
  }
  if (!ts.isAwaitExpression(parent)) return undefined;
  // const { a, b } = await import('x')
  if (ts.isVariableDeclaration(parent.parent)) return bindingNames(parent.parent.name);
  // (await import('x')).a
  if (ts.isParenthesizedExpression(parent.parent) && ts.isPropertyAccessExpression(parent.parent.parent)) {
    return [parent.parent.parent.name.text];
  }
  return undefined;
}

/** Every `import('literal')` call in a source file, with the names it is used for. */
function dynamicImports(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found = [];
  const visit = (node) => {
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push({ specifier: node.arguments[0].text, line: line + 1, names: namesUsed(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * Problems (one line each, empty when none) with the dynamic imports of the bundle that
 * `metafile` describes; `root` is the build's working directory.
 */
export async function checkDynamicImports(metafile, root) {
  const chunkFor = new Map();
  for (const [output, { entryPoint, exports }] of Object.entries(metafile.outputs)) {
    if (entryPoint) chunkFor.set(entryPoint, { output, exports: new Set(exports) });
  }
  const problems = [];
  for (const [importer, { imports }] of Object.entries(metafile.inputs)) {
    const records = imports.filter((i) => i.kind === 'dynamic-import' && !i.external);
    if (records.length === 0) continue;
    if (!/\.[mc]?tsx?$/.test(importer)) {
      problems.push(
        `${importer}: a dynamic import in a dependency (${records[0].original}), which this check cannot read`,
      );
      continue;
    }
    const calls = dynamicImports(importer, await readFile(join(root, importer), 'utf8'));
    // One record per import() call: each specifier once, with every call that names it.
    const resolved = new Map(records.map((r) => [r.original, r.path]));
    for (const [original, path] of resolved) {
      const chunk = chunkFor.get(path);
      for (const { specifier, line, names } of calls.filter((c) => c.specifier === original)) {
        const where = `${importer}:${line}: import('${specifier}')`;
        if (!chunk) {
          problems.push(`${where}: no output file was split out for ${path}`);
        } else if (names === undefined) {
          if (!/^src\/.*\.tsx?$/.test(path)) {
            problems.push(`${where}: used whole, so the build cannot check its names; destructure it`);
          }
        } else {
          const missing = names.filter((n) => !chunk.exports.has(n));
          if (missing.length > 0) {
            problems.push(
              `${where} uses ${missing.join(', ')}, which ${chunk.output} does not export (it exports ${[...chunk.exports].join(', ')})`,
            );
          }
        }
      }
    }
  }
  return problems;
}
