/**
 * A user's traits: `teleport.users.v1.UsersService/GetUser`, as Teleport's access-monitoring
 * notification handler reads them to evaluate `user.traits` in a rule's condition
 * (lib/accessmonitoring/notification/request_handler.go: getUserTraits). It needs `read` on
 * `user` for anyone but the caller.
 */
import { UsersServiceDefinition } from '../gen/teleport/users/v1/users_service.js';
import type { Connection } from './connect.js';
import { labelValuesToRecord } from './map.js';
import type { CallOptions } from './rpc.js';

/** The traits of user `name` (without secrets); throws the server's RpcError when refused. */
export async function userTraits(
  conn: Connection,
  name: string,
  opts: CallOptions,
): Promise<Record<string, string[]>> {
  const res = await conn
    .service(UsersServiceDefinition)
    .getUser({ name, currentUser: false, withSecrets: false }, opts);
  return labelValuesToRecord(res.user?.spec?.traits);
}
