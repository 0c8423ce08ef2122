/**
 * The `proto.AuthService` handlers of the embedded server. Each handler authenticates the
 * caller from its certificate, asks the Policy whether and how, and makes changes through
 * the store (durable before the reply) whose commits feed the watch hub.
 */

import { status } from '@grpc/grpc-js';
import type { PingResponse } from '../gen/teleport/legacy/client/proto/authservice.js';
import { SignatureAlgorithmSuite } from '../gen/teleport/legacy/types/types.js';
import { certHandlers } from './auth-service/certs.js';
import { lockHandlers } from './auth-service/locks.js';
import { requestHandlers } from './auth-service/requests.js';
import { resourceHandlers } from './auth-service/resources.js';
import { watchHandlers } from './auth-service/watch.js';
import { callerOf } from './authz.js';
import type { ClusterCerts } from './certs.js';
import type { WatchHub } from './events.js';
import { toServiceError } from './grpc/errors.js';
import { SERVER_VERSION } from './grpc/shape.js';
import type { AuthServiceServer } from './grpc-definitions.js';
import { checkCallerNotLocked } from './locks.js';
import { expiryOf } from './requests/expiry.js';
import type { RuleStore } from './storage/amr-store.js';
import type { LockStore } from './storage/lock-store.js';
import type { RequestStore } from './storage/store.js';
import { type Policy, ServerError } from './types.js';

export interface ServiceDeps {
  policy: Policy;
  store: RequestStore;
  locks: LockStore;
  /** Access Monitoring Rules (automatic reviews on creation). */
  rules?: RuleStore;
  hub: WatchHub;
  certs: ClusterCerts;
  now: () => Date;
  log: (line: string) => void;
}

/** Builds the AuthService handlers. */
export function createAuthService(deps: ServiceDeps): AuthServiceServer {
  const clusterName = deps.certs.clusterName;

  const ping: AuthServiceServer['ping'] = (call, callback) => {
    // Ping needs no user, but Teleport's GRPCServer.Ping authenticates like every call, so a
    // locked certificate is refused here too.
    try {
      const now = deps.now();
      checkCallerNotLocked(deps.locks, callerOf(call, now), now);
    } catch (err) {
      if (err instanceof ServerError && err.code === status.PERMISSION_DENIED) {
        callback(toServiceError(err));
        return;
      }
    }
    const response: PingResponse = {
      clusterName,
      serverVersion: SERVER_VERSION,
      serverFeatures: {
        advancedAccessWorkflows: true,
        accessRequests: { monthlyRequestLimit: 0 },
        identityGovernance: true,
      },
      proxyPublicAddr: '',
      isBoring: false,
      remoteAddr: call.getPeer(),
      loadAllCas: false,
      signatureAlgorithmSuite: SignatureAlgorithmSuite.SIGNATURE_ALGORITHM_SUITE_BALANCED_V1,
      licenseExpiry: undefined,
    };
    callback(null, response);
  };

  return {
    ping,
    ...requestHandlers(deps),
    ...watchHandlers(deps),
    ...resourceHandlers(deps),
    ...certHandlers(deps),
    ...lockHandlers(deps),
  };
}

/**
 * Removes every request whose metadata.expires has passed; each removal is durable
 * before its DELETE event goes out. Returns how many were removed.
 */
export async function sweepExpired(store: RequestStore, now: Date): Promise<number> {
  const due = store.expiredAt(now);
  const results = await Promise.all(
    due.map((req) =>
      store.mutate(req.metadata!.name, (current) =>
        current && expiryOf(current) <= now.getTime() ? { op: 'delete' } : undefined,
      ),
    ),
  );
  return results.filter((c) => c !== undefined).length;
}
