/**
 * Handler plumbing shared by every service: the caller from its certificate (and no lock in
 * force on it), errors as statuses, unary and server-stream wrappers, backpressure.
 */
import type {
  handleServerStreamingCall,
  handleUnaryCall,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import { authorizeLocalUser, callerOf } from '../authz.js';
import { checkCallerNotLocked } from '../locks.js';
import type { ServiceDeps } from '../service.js';
import type { Caller } from '../types.js';
import { toServiceError } from './errors.js';

/** What the wrappers need: the clock, the log, and the policy and locks to authenticate. */
export type HandlerDeps = Pick<ServiceDeps, 'now' | 'log' | 'policy' | 'locks'>;

/**
 * The caller of `call`: a valid certificate of a user that still exists, that no lock in
 * force targets (lib/authz/permissions.go, authorizer.Authorize checks
 * `Context.LockTargets()` with the lock watcher on every call).
 */
export function authenticate(
  deps: Pick<ServiceDeps, 'now' | 'policy' | 'locks'>,
  call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>,
): Caller {
  const now = deps.now();
  const caller = authorizeLocalUser(deps.policy, callerOf(call, now));
  checkCallerNotLocked(deps.locks, caller, now);
  return caller;
}

/** Wraps a unary handler: authenticates the caller and turns errors into statuses. */
export function unary<Req, Res>(
  deps: HandlerDeps,
  fn: (req: Req, caller: Caller, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request, authenticate(deps, call), call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err, deps.log)),
      );
  };
}

/**
 * Writes messages honouring backpressure, so a long listing to a slow reader does not
 * buffer without bound.
 */
export async function writeWithBackpressure<T>(
  call: ServerWritableStream<unknown, T>,
  message: T,
): Promise<void> {
  if (call.write(message)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
  });
}

export function serverStream<Req, Res>(
  deps: HandlerDeps,
  fn: (req: Req, caller: Caller, call: ServerWritableStream<Req, Res>) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    Promise.resolve()
      .then(() => fn(call.request, authenticate(deps, call), call))
      .then(
        () => call.end(),
        (err: unknown) => call.emit('error', toServiceError(err, deps.log)),
      );
  };
}
