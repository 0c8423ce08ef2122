/**
 * Following access-request changes for `access request watch`, with the one reconnect rule
 * that `waitForResolution` uses: the watch is reopened after a capped, jittered backoff
 * whenever it breaks in a way another attempt may fix. Callers get model events.
 */
import { Operation } from '../gen/teleport/legacy/client/proto/authservice.js';
import type { AccessRequest, WatchEvent } from '../model/request.js';
import type { Connection } from './connect.js';
import { isRpcError } from './errors.js';
import { requestFromProto } from './map.js';
import { backoffDelay, isRetryableWatchError, sleep } from './wait.js';

export interface WatchFilter {
  id?: string;
  user?: string;
  /** A state name, e.g. PENDING. */
  state?: string;
}

export interface WatchHandlers {
  /** Every event in order: `init` after each (re)connection, then `put` and `delete`. */
  onEvent(event: WatchEvent): void;
  /** The stream broke; it is reopened after a backoff. `attempt` counts from 1. */
  onReconnect?(attempt: number): void;
  /**
   * The caller may not read every request (no `read` rule on access_request), so the watch
   * now names the caller as Teleport requires (auth_with_roles.go: hasWatchPermissionForKind).
   */
  onOwnRequestsOnly?(user: string): void;
}

/** Follows access-request changes until `signal` aborts; errors no retry can fix are thrown. */
export async function watchRequests(
  conn: Connection,
  wanted: WatchFilter,
  handlers: WatchHandlers,
  signal?: AbortSignal,
): Promise<void> {
  const filter: Record<string, string> = {};
  if (wanted.id) filter.id = wanted.id;
  if (wanted.user) filter.user = wanted.user;
  if (wanted.state) filter.state = wanted.state;
  let failures = 0;
  while (!signal?.aborted) {
    try {
      for await (const event of conn.auth.watchEvents(
        { kinds: [{ kind: 'access_request', filter }] },
        { signal },
      )) {
        const res = event.resource;
        if (event.type === Operation.INIT) {
          failures = 0;
          handlers.onEvent({ type: 'init', request: null, id: '' });
        } else if (event.type === Operation.PUT && res?.$case === 'accessRequest') {
          const request = requestFromProto(res.value);
          handlers.onEvent({ type: 'put', request, id: request.id });
        } else if (event.type === Operation.DELETE && res?.$case === 'resourceHeader') {
          const id = res.value.metadata?.name ?? '';
          // Teleport does not filter deletions; an ID filter can still be applied here.
          if (res.value.kind !== 'access_request' || (wanted.id && id !== wanted.id)) continue;
          handlers.onEvent({ type: 'delete', request: null, id });
        }
      }
      if (signal?.aborted) return;
    } catch (err) {
      if (signal?.aborted) return;
      if (isRpcError(err) && err.kind === 'permission' && filter.user === undefined) {
        filter.user = conn.identity.username;
        handlers.onOwnRequestsOnly?.(filter.user);
        continue;
      }
      if (!isRetryableWatchError(err)) throw err;
    }
    failures++;
    handlers.onReconnect?.(failures);
    await sleep(backoffDelay(failures), signal);
  }
}

/** What the webhook bridge follows: requests with their revision, and rule changes. */
export type RequestFeedEvent =
  | { type: 'init' }
  | { type: 'put'; request: AccessRequest; revision: string }
  | { type: 'delete'; id: string }
  | { type: 'rules-changed' };

/**
 * One watch of access requests and Access Monitoring Rules, with partial success: an
 * identity that may not read rules still gets the requests. Each event is handed to
 * `onEvent`, awaited before the next is read. Returns when the stream ends; throws when it
 * fails (the caller reconnects).
 */
export async function watchRequestFeed(
  conn: Connection,
  onEvent: (event: RequestFeedEvent) => void | Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const watch = {
    kinds: [
      { kind: 'access_request', filter: {} },
      { kind: 'access_monitoring_rule', filter: {} },
    ],
    allowPartialSuccess: true,
  };
  for await (const event of conn.auth.watchEvents(watch, { signal })) {
    const res = event.resource;
    if (event.type === Operation.INIT) await onEvent({ type: 'init' });
    else if (event.type === Operation.PUT && res?.$case === 'accessRequest') {
      await onEvent({
        type: 'put',
        request: requestFromProto(res.value),
        revision: res.value.metadata?.revision ?? '',
      });
    } else if (res?.$case === 'resourceHeader' && res.value.kind === 'access_request') {
      await onEvent({ type: 'delete', id: res.value.metadata?.name ?? '' });
    } else if (
      res?.$case === 'accessMonitoringRule' ||
      (res?.$case === 'resourceHeader' && res.value.kind === 'access_monitoring_rule')
    ) {
      await onEvent({ type: 'rules-changed' });
    }
  }
}
