/**
 * Requestable roles with their descriptions: AuthService.ListRequestableRoles, as tsh's
 * `request search --roles` lists them (paged, against the root cluster), or on a server
 * that does not serve it (Unimplemented: Teleport before 18) the names GetAccessCapabilities
 * reports, without descriptions.
 */
import type { Connection } from './connect.js';
import { isRpcError } from './errors.js';
import { paginate } from './list.js';
import type { CallOptions } from './rpc.js';

export interface RequestableRole {
  role: string;
  /** The role's metadata.description; '' when it has none or the server does not say. */
  description: string;
}

const PAGE_SIZE = 500;

/** The caller's requestable roles, sorted by name. */
export async function listRequestableRoles(conn: Connection, opts: CallOptions): Promise<RequestableRole[]> {
  const out: RequestableRole[] = [];
  try {
    const pages = paginate(async (pageSize, pageToken) => {
      const page = await conn.auth.listRequestableRoles({ pageSize, pageToken, filter: undefined }, opts);
      return {
        items: page.roles.map((r) => ({ role: r.name, description: r.description })),
        nextKey: page.nextPageToken,
      };
    }, PAGE_SIZE);
    for await (const page of pages) out.push(...page);
    return out;
  } catch (err) {
    if (!isRpcError(err) || err.code !== 'UNIMPLEMENTED') throw err;
  }
  const caps = await conn.auth.getAccessCapabilities(
    { user: conn.identity.username, requestableRoles: true },
    opts,
  );
  return [...caps.requestableRoles].sort().map((role) => ({ role, description: '' }));
}
