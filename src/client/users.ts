/** Users, as plugins read them: a user's traits (UsersService.GetUser, without secrets). */
import { UsersServiceDefinition } from '../gen/teleport/users/v1/users_service.js';
import type { Connection } from './connect.js';
import { labelValuesToRecord } from './map.js';
import type { CallOptions } from './rpc.js';

/**
 * The traits of user `name`. Reading another user needs `read` on `user`
 * (lib/auth/users/usersv1/service.go: Service.GetUser); PermissionDenied otherwise.
 */
export async function userTraits(
  conn: Connection,
  name: string,
  call: CallOptions = {},
): Promise<Record<string, string[]>> {
  const res = await conn
    .service(UsersServiceDefinition)
    .getUser({ name, currentUser: false, withSecrets: false }, call);
  return labelValuesToRecord(res.user?.spec?.traits);
}
