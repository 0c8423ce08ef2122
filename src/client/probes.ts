import { randomUUID } from 'node:crypto';
import { RequestState, SignatureAlgorithmSuite } from '../gen/teleport/legacy/types/types.js';
import { UsersServiceDefinition } from '../gen/teleport/users/v1/users_service.js';
import type { KeyAlgorithm } from '../identity/keys.js';
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

/**
 * Whether these credentials may submit reviews at all, found without changing anything: a
 * review of a random ID. Teleport refuses an identity none of whose roles allows reviewing
 * before it looks the request up (auth_with_roles.go: SubmitAccessReview, via
 * RoleSet.MaybeCanReviewRequests, "user %q cannot submit reviews"), so NotFound means it may
 * review some requests, PermissionDenied that it may review none, and the admin-MFA text `mfa`.
 * Anything else is returned as its message.
 */
export async function probeReviewRight(
  conn: Connection,
  call: CallOptions,
): Promise<true | false | 'mfa' | string> {
  try {
    await conn.auth.submitAccessReview(
      {
        requestId: randomUUID(),
        review: {
          author: conn.identity.username,
          proposedState: RequestState.DENIED,
          reason: 'access webhook serve: permission probe',
        },
      },
      call,
    );
    return 'the server accepted a review of a request that does not exist';
  } catch (err) {
    if (!(err instanceof RpcError) || err.kind === 'interrupted') throw err;
    if (err.kind === 'permission') return isAdminMfaRefusal(err.code, err.details) ? 'mfa' : false;
    if (err.kind === 'not-found') return true;
    return err.message;
  }
}

/**
 * Whether these credentials may read other users (their traits), found without reading
 * anyone: GetUser of a random name. Teleport checks `read` on `user` before it looks the user
 * up (lib/auth/users/usersv1/service.go: Service.GetUser), so NotFound means allowed and
 * PermissionDenied refused (returned as the server's message). Anything else is returned as
 * its message too.
 */
export async function probeUserReadRight(conn: Connection, call: CallOptions): Promise<true | string> {
  try {
    await conn
      .service(UsersServiceDefinition)
      .getUser({ name: `access-probe-${randomUUID()}`, currentUser: false, withSecrets: false }, call);
    return true;
  } catch (err) {
    if (!(err instanceof RpcError) || err.kind === 'interrupted') throw err;
    if (err.kind === 'not-found') return true;
    return err.message;
  }
}

/** What Ping says about the cluster. */
export interface ServerInfo {
  clusterName: string;
  serverVersion: string;
  /** The key type the cluster's signature algorithm suite gives user TLS keys. */
  userKeyAlgorithm: KeyAlgorithm;
}

/**
 * ECDSA P-256 for the suites whose user TLS keys are ECDSA (balanced-v1, fips-v1 and hsm-v1
 * all issue ECDSA P-256 user keys); RSA 2048 for legacy, for servers too old to report a
 * suite (UNSPECIFIED), and for suites this build does not know.
 */
export function keyAlgorithmForSuite(suite: number): KeyAlgorithm {
  switch (suite) {
    case SignatureAlgorithmSuite.SIGNATURE_ALGORITHM_SUITE_BALANCED_V1:
    case SignatureAlgorithmSuite.SIGNATURE_ALGORITHM_SUITE_FIPS_V1:
    case SignatureAlgorithmSuite.SIGNATURE_ALGORITHM_SUITE_HSM_V1:
      return 'ecdsa-p256';
    default:
      return 'rsa-2048';
  }
}

/** The cluster's name, version and user key type (Ping). */
export async function serverInfo(conn: Connection, call: CallOptions = {}): Promise<ServerInfo> {
  const ping = await conn.auth.ping({}, call);
  return {
    clusterName: ping.clusterName,
    serverVersion: ping.serverVersion,
    userKeyAlgorithm: keyAlgorithmForSuite(ping.signatureAlgorithmSuite),
  };
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
  const server = await serverInfo(conn, call);
  const page = await conn.auth.listAccessRequests({ limit: 100 }, call);
  return {
    cluster: server.clusterName,
    serverVersion: server.serverVersion,
    visible: page.accessRequests.length,
    more: page.nextKey !== '',
    update: await probeStateChangeRule(conn, call),
  };
}
