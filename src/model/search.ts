import { UsageError } from './errors.js';

/** Resource kinds `access request search --kind` accepts. */
export const SEARCH_KINDS = [
  'node',
  'db',
  'app',
  'kube_cluster',
  'windows_desktop',
  'kube_resource',
  'user_group',
  'saml_idp_service_provider',
  'aws_ic_account',
  'aws_ic_account_assignment',
] as const;

export type SearchKind = (typeof SEARCH_KINDS)[number];

/** One row of `access request search`, in our JSON shape (spec/cli.md); keys in this order. */
export interface SearchResult {
  kind: string;
  name: string;
  /**
   * Hostname (nodes) or another friendly address: a SAML service provider's entity ID, an
   * Identity Center account's AWS account ID, an account assignment's display name; `''`
   * when the kind has none.
   */
  hostname: string;
  /** Kubernetes namespace for kube resources; `''` otherwise. */
  namespace: string;
  labels: Record<string, string>;
  /** The ID to pass to `access request create --resource`. */
  resource_id: string;
}

/** A search result with its keys in the documented order. */
export function newSearchResult(
  init: Partial<SearchResult> & Pick<SearchResult, 'kind' | 'name' | 'resource_id'>,
): SearchResult {
  return {
    kind: init.kind,
    name: init.name,
    hostname: init.hostname ?? '',
    namespace: init.namespace ?? '',
    labels: init.labels ?? {},
    resource_id: init.resource_id,
  };
}

export function isSearchKind(s: string): s is SearchKind {
  return (SEARCH_KINDS as readonly string[]).includes(s);
}

/** Validates `--kind`; a UsageError listing the kinds otherwise. */
export function parseSearchKind(s: string): SearchKind {
  if (!isSearchKind(s)) {
    throw new UsageError(`invalid --kind ${JSON.stringify(s)}: expected one of ${SEARCH_KINDS.join(', ')}`);
  }
  return s;
}

/**
 * Whether every search keyword (an empty one matches anything) appears, case-insensitively,
 * in one of the fields: the keyword search of ListResources, ListAccessRequests and
 * ListRequestableRoles.
 */
export function fieldsMatchKeywords(
  fields: readonly (string | undefined)[],
  keywords: readonly string[],
): boolean {
  if (keywords.length === 0) return true;
  const haystack = fields
    .filter((f): f is string => typeof f === 'string' && f !== '')
    .map((f) => f.toLowerCase());
  return keywords.every((k) => {
    const kw = k.toLowerCase();
    return kw === '' || haystack.some((f) => f.includes(kw));
  });
}
