/**
 * `teleport.users.v1.UsersService/GetUser`, which plugins call for a requester's traits
 * (lib/accessmonitoring/notification/request_handler.go: getUserTraits).
 */

import type { UserV2 } from '../gen/teleport/legacy/types/types.js';
import type { GetUserRequest, GetUserResponse } from '../gen/teleport/users/v1/users_service.js';
import { isCurrentUserAction, requireRule } from './authz.js';
import { unary } from './grpc/handlers.js';
import { metadata } from './grpc/shape.js';
import type { UsersServiceServer } from './grpc-definitions.js';
import { toLabelValues } from './requests/wire.js';
import type { ServiceDeps } from './service.js';
import { accessDenied, badParameter, notFound, type User } from './types.js';

/** A user as the wire carries it, without secrets (we keep none). */
export function userV2(user: User): UserV2 {
  return {
    kind: 'user',
    subKind: '',
    version: 'v2',
    metadata: metadata(user.name),
    spec: { roles: [...user.roles], traits: toLabelValues(user.traits), expires: undefined },
  };
}

/** Builds the UsersService handlers. */
export function createUsersService(deps: ServiceDeps): UsersServiceServer {
  const { policy } = deps;
  // lib/auth/users/usersv1/service.go: Service.GetUser. The current user by flag; secrets only
  // for the builtin Admin role (never a certificate of ours); another user's record needs
  // `read` on `user` unless currentUserAction allows it (the caller, or `create` on `user`).
  const getUser = unary<GetUserRequest, GetUserResponse>(deps, (req, caller) => {
    if (req.name === '' && req.currentUser) {
      const self = policy.user(caller.user);
      if (!self) throw notFound(`user ${JSON.stringify(caller.user)} is not found`);
      return { user: userV2(self) };
    }
    if (req.withSecrets) throw accessDenied('this request can be only executed by an admin');
    if (!isCurrentUserAction(policy, caller, req.name)) requireRule(policy, caller, 'read', 'user');
    // lib/services/local/users.go: IdentityService.GetUser.
    if (req.name === '') throw badParameter('missing user name');
    const user = policy.user(req.name);
    if (!user) throw notFound(`user ${JSON.stringify(req.name)} is not found`);
    return { user: userV2(user) };
  });
  return { getUser };
}
