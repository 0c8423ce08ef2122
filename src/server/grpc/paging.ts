/**
 * Paging of list calls: page sizes and opaque page keys.
 */

import { badParameter } from '../types.js';

/** Page size when a list call does not say, and the most one page may hold. */
export const DEFAULT_PAGE = 1000;
export const MAX_PAGE = 10_000;

/** A sort key: the fields a listing orders by, compared in turn. */
export type PageKey = (string | number)[];

/** Orders two sort keys field by field. */
export function compareKeys(a: PageKey, b: PageKey): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/** An opaque page key: the sort key of the next page's first item, as base64url JSON. */
export function encodePageKey(key: PageKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The sort key a page key carries, or undefined when `startKey` is not one. */
export function decodePageKey(startKey: string): PageKey | undefined {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(startKey, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return Array.isArray(key) && key.every((k) => typeof k === 'string' || typeof k === 'number')
    ? key
    : undefined;
}

/**
 * ListAccessRequests' page size, as lib/services/access_request_cache.go
 * (ListMatchingAccessRequests) sets it: apidefaults.DefaultChunkSize when unset, and a limit
 * over its maxPageSize (16,000) refused, not cut.
 */
export const MAX_ACCESS_REQUEST_PAGE = 16_000;

export function accessRequestPageLimit(limit: number): number {
  if (limit <= 0) return DEFAULT_PAGE;
  if (limit > MAX_ACCESS_REQUEST_PAGE) throw badParameter(`page size of ${limit} is too large`);
  return limit;
}

/** The page size of a list call: the default when unset, never more than MAX_PAGE. */
export function pageLimit(limit: number): number {
  if (limit <= 0) return DEFAULT_PAGE;
  return Math.min(limit, MAX_PAGE);
}

/**
 * ListResources' page size, as api/client/proto/types.go (ListResourcesRequest.
 * CheckAndSetDefaults, which lib/auth/auth_with_roles.go ServerWithRoles.ListResources calls on
 * both its paths) sets it: apidefaults.DefaultChunkSize when unset, a negative limit refused,
 * and no upper bound.
 */
export function listResourcesLimit(limit: number): number {
  if (limit === 0) return DEFAULT_PAGE;
  if (limit < 0) throw badParameter('negative parameter limit');
  return limit;
}

/**
 * One page of a sorted resource list, at most `limit` (resolved by the call's own rule)
 * long. Keys are opaque strings naming the first item of the next page.
 */
export function paginate<T>(
  items: T[],
  keyOf: (item: T) => string[],
  opts: { descending: boolean; limit: number; startKey: string },
): { page: T[]; nextKey: string } {
  const keyed = items.map((item) => ({ item, key: keyOf(item) }));
  const cmp = compareKeys;
  keyed.sort((a, b) => (opts.descending ? cmp(b.key, a.key) : cmp(a.key, b.key)));
  let start = 0;
  if (opts.startKey) {
    const key = decodePageKey(opts.startKey);
    if (!key?.every((k) => typeof k === 'string')) {
      throw badParameter(`invalid start key "${opts.startKey}"`);
    }
    start = keyed.findIndex((k) => (opts.descending ? cmp(k.key, key) <= 0 : cmp(k.key, key) >= 0));
    if (start < 0) start = keyed.length;
  }
  const page = keyed.slice(start, start + opts.limit);
  const next = keyed[start + opts.limit];
  return {
    page: page.map((k) => k.item),
    nextKey: next ? encodePageKey(next.key) : '',
  };
}
