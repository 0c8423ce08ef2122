/**
 * WatchEvents of AuthService: a subscription on the watch hub per stream.
 */

import type { Event } from '../../gen/teleport/legacy/client/proto/authservice.js';
import { isCurrentUserAction, requireRule } from '../authz.js';
import { type EventSink, planWatch } from '../events.js';
import { toServiceError } from '../grpc/errors.js';
import { authenticate } from '../grpc/handlers.js';
import type { AuthServiceServer } from '../grpc-definitions.js';
import type { ServiceDeps } from '../service.js';

/** WatchEvents: who may watch is decided once, in planWatch. */
export function watchHandlers(deps: ServiceDeps) {
  const { policy, hub } = deps;

  const watchEvents: AuthServiceServer['watchEvents'] = (call) => {
    let plan: ReturnType<typeof planWatch>;
    try {
      const caller = authenticate(deps, call);
      // lib/auth/auth_with_roles.go, hasWatchPermissionForKind: users may watch their own
      // requests (a `user` filter naming themselves); anything wider needs `read`.
      plan = planWatch(
        call.request,
        (filter) => {
          if (filter.user !== undefined && isCurrentUserAction(policy, caller, filter.user)) return;
          requireRule(policy, caller, 'read');
        },
        (kind) => requireRule(policy, caller, 'read', kind),
      );
    } catch (err) {
      call.emit('error', toServiceError(err, deps.log));
      return;
    }
    let closed = false;
    const sink: EventSink = {
      write: (event: Event) => {
        if (!closed) call.write(event);
      },
      backlog: () => call.writableLength,
      close: (err) => {
        if (closed) return;
        closed = true;
        if (err) call.emit('error', toServiceError(err));
        else call.end();
      },
    };
    const sub = hub.subscribe(plan, sink);
    const gone = () => {
      closed = true;
      sub.cancel();
    };
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', gone);
  };

  return {
    watchEvents,
  } satisfies Partial<AuthServiceServer>;
}
