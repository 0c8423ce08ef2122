/**
 * AuthService.ListRequestableRoles (Teleport 18): the caller's requestable roles with their
 * descriptions (RoleV6 metadata.description), sorted by name, paged, and narrowed by search
 * keywords. tsh's `request search --roles` lists them this way; older servers do not serve
 * it, so the client falls back to GetAccessCapabilities (names only).
 */
import type {
  ListRequestableRolesRequest,
  ListRequestableRolesResponse,
} from '../gen/teleport/legacy/client/proto/requestable_roles.js';
import { fieldsMatchKeywords } from '../model/search.js';
import { badParameter, type Caller, type Policy } from './types.js';

/**
 * One page. The roles are those GetAccessCapabilities reports as requestable
 * (lib/services/access_request.go: RequestValidator.GetRequestableRoles); Teleport's
 * lib/auth/auth_test TestListRequestableRoles fixes the order (by name), the page token
 * (opaque: here the first name of the next page), the empty token on the last page, and a
 * page size of 0 meaning no limit.
 */
export function requestableRolesPage(
  policy: Policy,
  caller: Caller,
  req: ListRequestableRolesRequest,
): ListRequestableRolesResponse {
  if (req.pageSize < 0) throw badParameter('page_size must not be negative');
  const names = policy.capabilities(caller, {
    user: caller.user,
    requestableRoles: true,
    suggestedReviewers: false,
    resourceIds: [],
  }).requestableRoles;
  const keywords = req.filter?.searchKeywords ?? [];
  const roles = [...names]
    .sort()
    .map((name) => ({ name, description: policy.role(name)?.description ?? '' }))
    .filter((r) => fieldsMatchKeywords([r.name, r.description], keywords))
    .filter((r) => req.pageToken === '' || r.name >= req.pageToken);
  if (req.pageSize === 0 || roles.length <= req.pageSize) return { roles, nextPageToken: '' };
  return { roles: roles.slice(0, req.pageSize), nextPageToken: roles[req.pageSize].name };
}
