/**
 * The environment of ListResources' PredicateExpression and Teleport's keyword search.
 */
import { compilePredicate } from '../model/predicate/compile.js';
import type { PredicateEnv, PredicateVariable } from '../model/predicate/env.js';
import { fieldsMatchKeywords } from '../model/search.js';
import type { Resource } from './types.js';

/**
 * Whether every keyword occurs (case-insensitively, as a substring) in one of the resource's
 * searchable fields: name, hostname, address, label keys and values, and for Kubernetes
 * objects their namespace and kind. Teleport's SearchKeywords and `search()` semantics.
 */
export function matchesKeywords(r: Resource, keywords: readonly string[]): boolean {
  const fields = [r.name, r.hostname, r.addr, r.namespace, r.kubeKind, r.kubeCluster].concat(
    Object.entries(r.labels).flat(),
  );
  return fieldsMatchKeywords(fields, keywords);
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
