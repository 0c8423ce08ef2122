/**
 * Locks: GetLock, GetLocks, UpsertLock, DeleteLock (lib/auth/auth_with_roles.go: `action` on
 * kind `lock` with every verb listed).
 */

import type { Empty } from '../../gen/google/protobuf/empty.js';
import type {
  DeleteLockRequest,
  GetLockRequest,
  GetLocksRequest,
  GetLocksResponse,
} from '../../gen/teleport/legacy/client/proto/authservice.js';
import type { LockV2 } from '../../gen/teleport/legacy/types/types.js';
import { requireRule } from '../authz.js';
import { unary } from '../grpc/handlers.js';
import { metadata, setTime } from '../grpc/shape.js';
import type { AuthServiceServer } from '../grpc-definitions.js';
import { isEmptyTarget } from '../locks.js';
import type { ServiceDeps } from '../service.js';
import { badParameter, notFound, type ServerError } from '../types.js';

/** lib/services/local/access.go, GetLock/DeleteLock: NotFound naming the lock. */
function lockNotFound(name: string): ServerError {
  return notFound(`lock "${name}" is not found`);
}

/** The lock handlers. */
export function lockHandlers(deps: ServiceDeps) {
  const { policy, locks } = deps;

  const getLock = unary(deps, (req: GetLockRequest, caller): LockV2 => {
    requireRule(policy, caller, 'read', 'lock');
    const lock = locks.get(req.name, deps.now());
    if (!lock) throw lockNotFound(req.name);
    return lock;
  });

  const getLocks = unary(deps, (req: GetLocksRequest, caller): GetLocksResponse => {
    requireRule(policy, caller, 'list', 'lock');
    requireRule(policy, caller, 'read', 'lock');
    return { locks: locks.find(deps.now(), req.inForceOnly, req.targets) };
  });

  const upsertLock = unary(deps, async (req: LockV2, caller): Promise<Empty> => {
    requireRule(policy, caller, 'create', 'lock');
    requireRule(policy, caller, 'update', 'lock');
    // api/types/lock.go, LockV2.CheckAndSetDefaults (run when the backend marshals it):
    // static kind and version, a name (Metadata.CheckAndSetDefaults), a non-empty target.
    const name = req.metadata?.name ?? '';
    if (name === '') throw badParameter('missing parameter Name');
    if (isEmptyTarget(req.spec?.target)) throw badParameter('at least one target field must be set');
    const now = deps.now();
    const lock: LockV2 = {
      ...req,
      kind: 'lock',
      version: 'v2',
      metadata: metadata(name, { ...req.metadata, name, namespace: 'default', revision: '' }),
      spec: {
        ...req.spec!,
        createdAt: setTime(req.spec?.createdAt) ?? now,
        createdBy: req.spec?.createdBy || caller.user,
      },
    };
    await locks.upsert(lock);
    deps.log(`lock ${name} upserted by ${caller.user}`);
    return {};
  });

  const deleteLock = unary(deps, async (req: DeleteLockRequest, caller): Promise<Empty> => {
    requireRule(policy, caller, 'delete', 'lock');
    if (!(await locks.delete(req.name, deps.now()))) throw lockNotFound(req.name);
    deps.log(`lock ${req.name} deleted by ${caller.user}`);
    return {};
  });

  return {
    getLock,
    getLocks,
    upsertLock,
    deleteLock,
  } satisfies Partial<AuthServiceServer>;
}
