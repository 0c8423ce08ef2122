/**
 * `teleport.users.v1.UsersService`, GetUser only: what plugins read a requester's traits with
 * (lib/accessmonitoring/notification/request_handler.go, getUserTraits). Authorization
 * mirrors lib/auth/users/usersv1/service.go (Service.GetUser): the current user when asked
 * for; with secrets only for Teleport's builtin Admin role, which no certificate of this
 * server carries; otherwise a user may read themselves, and anyone else needs `read` on
 * `user` (CheckAccessToKind).
 */
import type { UserV2 } from '../gen/teleport/legacy/types/types.js';
import { requireRule } from './authz.js';
import { unary } from './grpc/handlers.js';
import { metadata } from './grpc/shape.js';
import type { UsersServiceServer } from './grpc-definitions.js';
import { toLabelValues } from './requests/wire.js';
import type { ServiceDeps } from './service.js';
import { accessDenied, badParameter, notFound, type User } from './types.js';

/** A user as Teleport returns it without secrets. */
export function userToProto(user: User): UserV2 {
  return {
    kind: 'user',
    subKind: '',
    version: 'v2',
    metadata: metadata(user.name),
    spec: { roles: [...user.roles], traits: toLabelValues(user.traits), expires: undefined },
  };
}

export function createUsersService(deps: ServiceDeps): UsersServiceServer {
  const { policy } = deps;
  return {
    getUser: unary(deps, (req, caller) => {
      const name = req.name || (req.currentUser ? caller.user : '');
      if (name === '') throw badParameter('missing username');
      if (req.withSecrets) throw accessDenied('this request can be only executed by an admin');
      if (name !== caller.user) requireRule(policy, caller, 'read', 'user');
      const user = policy.user(name);
      // lib/services/local/users.go, IdentityService.GetUser.
      if (!user) throw notFound(`user "${name}" is not found`);
      return { user: userToProto(user) };
    }),
  };
}
