/**
 * Who the credentials say the caller is, as tsh status shows it: read from the certificate,
 * with each request it carries looked up on the server for its state now.
 */
import type { CredentialSource } from '../identity/types.js';
import { AccessError } from '../model/errors.js';
import type { CredentialOrigin, Status } from '../model/status.js';
import { toIsoOrNull } from '../model/time.js';
import { type Connection, clusterFromCredentials } from './connect.js';
import { getRequest } from './requests.js';
import type { CallOptions } from './rpc.js';

/** Where credentials came from and whether assume/drop rewrite them. */
export function credentialOrigin(source: CredentialSource): CredentialOrigin {
  switch (source.kind) {
    case 'identity-file':
      return { kind: source.kind, path: source.path, writable: true };
    case 'tls-trio':
      return { kind: source.kind, path: source.certPath, writable: false };
    case 'tsh-profile':
      return { kind: source.kind, path: source.home, writable: true };
  }
}

/**
 * The caller's status. Each assumed request is read once (GetAccessRequestsV2, which lets a
 * user read their own requests); one the server no longer has keeps its ID with state null.
 */
export async function whoami(conn: Connection, call: CallOptions = {}): Promise<Status> {
  const id = conn.identity;
  const active = await Promise.all(
    id.activeRequests.map(async (rid) => {
      try {
        const req = await getRequest(conn, rid, call);
        return {
          id: rid,
          state: req.state,
          roles: req.roles,
          resources: req.resources,
          access_expires: req.access_expires,
        };
      } catch (err) {
        if (!(err instanceof AccessError) || err.kind !== 'not-found') throw err;
        return { id: rid, state: null, roles: [], resources: [], access_expires: null };
      }
    }),
  );
  return {
    user: id.username,
    cluster: conn.clusterName ?? clusterFromCredentials(conn.credentials, id) ?? '',
    roles: [...id.roles].sort(),
    active_requests: active,
    allowed_resources: [...id.allowedResourceIds],
    cert_expires: toIsoOrNull(id.expires) ?? '',
    impersonator: id.impersonator ?? null,
    credentials: credentialOrigin(conn.credentials.source),
  };
}
