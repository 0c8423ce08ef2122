import type { AccessRequest } from './request.js';

/** What a command wants access to: roles and resource IDs (formatted), for one user. */
export interface WantedAccess {
  user: string;
  roles: readonly string[];
  resources: readonly string[];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

/** Whether `iso` (an RFC 3339 time or null for "never") is still ahead of `now`. */
function ahead(iso: string | null, now: Date): boolean {
  return iso === null || Date.parse(iso) > now.getTime();
}

/**
 * Whether `req` grants what is wanted: the same user and resources, and the same roles.
 * Without roles asked for, a resource request's roles are the ones the server chose (the
 * search_as_roles that grant the resources), so they are not compared.
 */
export function grantsWanted(req: AccessRequest, want: WantedAccess): boolean {
  if (req.user !== want.user || !sameSet(req.resources, want.resources)) return false;
  return want.roles.length === 0 ? want.resources.length > 0 : sameSet(req.roles, want.roles);
}

/**
 * Whether `req` can still give access now or after approval: pending or approved, not past
 * its pending expiry or its access expiry, and assumable now (no start time ahead), the
 * same checks GenerateUserCerts makes of an approved request.
 */
export function stillUsable(req: AccessRequest, now: Date): boolean {
  if (req.state !== 'PENDING' && req.state !== 'APPROVED') return false;
  if (!ahead(req.expires, now) || !ahead(req.access_expires, now)) return false;
  return req.assume_start_time === null || Date.parse(req.assume_start_time) <= now.getTime();
}

/**
 * The request to reuse instead of creating another: among the caller's usable requests
 * for exactly what is wanted, an approved one before a pending one, then the newest.
 */
export function findReusable(
  requests: readonly AccessRequest[],
  want: WantedAccess,
  now: Date,
): AccessRequest | undefined {
  const rank = (r: AccessRequest) => (r.state === 'APPROVED' ? 0 : 1);
  const created = (r: AccessRequest) => (r.created === null ? 0 : Date.parse(r.created));
  return requests
    .filter((r) => grantsWanted(r, want) && stillUsable(r, now))
    .sort((a, b) => rank(a) - rank(b) || created(b) - created(a))[0];
}
