import { randomUUID } from 'node:crypto';
import { RequestState } from '../gen/teleport/legacy/types/types.js';
import { isAdminMfaRefusal } from '../model/server-messages.js';
import type { Connection } from './connect.js';
import { RpcError } from './errors.js';
import type { CallOptions } from './rpc.js';

/**
 * Whether these credentials may change a request's state (the `update` rule), found without
 * changing anything: SetAccessRequestState on a random ID. Teleport checks the rule (and
 * admin MFA) before it looks the request up (auth_with_roles.go: SetAccessRequestState), so
 * NotFound means allowed, PermissionDenied refused, and the admin-MFA text `mfa`.
 * Anything else is returned as its message.
 */
export async function probeStateChangeRule(
  conn: Connection,
  call: CallOptions,
): Promise<true | false | 'mfa' | string> {
  try {
    await conn.auth.setAccessRequestState(
      {
        id: randomUUID(),
        state: RequestState.DENIED,
        reason: 'access sign-helper --verify: permission probe',
      },
      call,
    );
    return 'the server accepted a state change for a request that does not exist';
  } catch (err) {
    if (!(err instanceof RpcError) || err.kind === 'interrupted') throw err;
    if (err.kind === 'permission') return isAdminMfaRefusal(err.code, err.details) ? 'mfa' : false;
    if (err.kind === 'not-found') return true;
    return err.message;
  }
}

/** What a set of credentials may do on access requests, found without changing anything. */
export interface AccessRequestRights {
  cluster: string;
  serverVersion: string;
  /** Requests visible to ListAccessRequests (first page of 100). */
  visible: number;
  /** More pages followed. */
  more: boolean;
  /** See {@link probeStateChangeRule}. */
  update: true | false | 'mfa' | string;
}

/** Pings, lists the first page of requests and probes the `update` rule. */
export async function probeAccessRequestRights(
  conn: Connection,
  call: CallOptions,
): Promise<AccessRequestRights> {
  const ping = await conn.auth.ping({}, call);
  const page = await conn.auth.listAccessRequests({ limit: 100 }, call);
  return {
    cluster: ping.clusterName,
    serverVersion: ping.serverVersion,
    visible: page.accessRequests.length,
    more: page.nextKey !== '',
    update: await probeStateChangeRule(conn, call),
  };
}
