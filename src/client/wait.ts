import { type Event, Operation } from '../gen/teleport/legacy/client/proto/authservice.js';
import { type AccessRequestV3, RequestState } from '../gen/teleport/legacy/types/types.js';
import type { AccessRequest } from '../model/request.js';
import type { Connection } from './connect.js';
import { isRpcError, type StatusName } from './errors.js';
import { requestFromProto } from './map.js';

export type WaitOutcome =
  | 'approved'
  | 'denied'
  | 'promoted'
  | 'deleted'
  | 'expired'
  | 'timeout'
  | 'interrupted';

export interface WaitResult {
  outcome: WaitOutcome;
  /** The request as last seen: final for approved/denied/promoted, still pending for expired/timeout/interrupted. */
  request?: AccessRequestV3;
}

export interface WaitOptions {
  /**
   * The user who owns the request. Teleport lets a caller without `read` on access_request
   * watch only with its own name in the filter, so the watch names the owner; when omitted,
   * the request is read first to learn it.
   */
  user?: string;
  /** Give up after this long: outcome `timeout`. */
  timeoutMs?: number;
  /** Aborting ends the wait: outcome `interrupted`. */
  signal?: AbortSignal;
  /**
   * Called with the request each time it is read or changes (reviews arriving one by one, for
   * "1 of 2 approvals"), the final state included.
   */
  onUpdate?: (req: AccessRequest) => void;
  /** Called before each reconnect, with the consecutive failure count (from 1) and the cause. */
  onReconnect?: (attempt: number, err: unknown) => void;
  /** Reconnect backoff; default 250ms doubling up to 5s, with jitter. */
  backoff?: { initialMs: number; maxMs: number };
}

/** Reconnect backoff of long-lived watches: 250ms doubling up to 5s. */
const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 5_000 };

/**
 * Codes that another attempt cannot fix: the caller may not watch or read the request,
 * or the server does not understand the watch.
 */
const FINAL_CODES: ReadonlySet<StatusName> = new Set<StatusName>([
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'NOT_FOUND',
  'INVALID_ARGUMENT',
  'UNIMPLEMENTED',
]);

/** The watch ended or misbehaved; another attempt may succeed. */
class StreamBroken extends Error {}

/**
 * Whether a long-lived watch that failed with `err` is worth opening again: a broken or
 * ended stream, or a gRPC error other than FINAL_CODES. Anything else (a bug) is not.
 */
export function isRetryableWatchError(err: unknown): boolean {
  return err instanceof StreamBroken || (isRpcError(err) && !FINAL_CODES.has(err.code));
}

function outcomeOf(req: AccessRequestV3): WaitOutcome | undefined {
  switch (req.spec?.state) {
    case RequestState.APPROVED:
      return 'approved';
    case RequestState.DENIED:
      return 'denied';
    case RequestState.PROMOTED:
      return 'promoted';
    default:
      return undefined;
  }
}

/**
 * Waits until request `id` is resolved, as spec/cli.md "Waiting, precisely" describes:
 * open a WatchEvents stream for the request, wait for INIT, then read the request once
 * (so a resolution that happened before the watch was live is not missed), then follow
 * PUT and DELETE events. A broken stream is reopened with capped exponential backoff and
 * jitter, each time INIT then a fresh read. Permission and not-found errors are final
 * and thrown as RpcError. Push only: no polling.
 */
export async function waitForResolution(
  conn: Connection,
  id: string,
  opts: WaitOptions = {},
): Promise<WaitResult> {
  const stop = new AbortController();
  let stopReason: 'timeout' | 'interrupted' | 'expired' | undefined;
  const halt = (reason: 'timeout' | 'interrupted' | 'expired') => {
    stopReason ??= reason;
    stop.abort();
  };
  const onAbort = () => halt('interrupted');
  if (opts.signal?.aborted) halt('interrupted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => halt('timeout'), opts.timeoutMs);

  // Some backends delete an expired request up to 48 hours late, so the DELETE event may come
  // long after the expiry (lib/services/access_request_cache.go): the wait ends at the expiry.
  let expiryTimer: NodeJS.Timeout | undefined;
  const seen: Seen = {
    update(req) {
      this.request = req;
      opts.onUpdate?.(requestFromProto(req));
      clearTimeout(expiryTimer);
      const at = req.spec?.state === RequestState.PENDING ? pendingExpiry(req) : undefined;
      if (at === undefined) return;
      expiryTimer = setTimeout(() => halt('expired'), Math.max(0, at - Date.now()));
    },
  };
  if (opts.user) seen.user = opts.user;
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  let failures = 0;
  try {
    for (;;) {
      if (stopReason) return { outcome: stopReason, request: seen.request };
      try {
        return await followOnce(conn, id, stop.signal, seen, () => {
          failures = 0;
        });
      } catch (err) {
        if (stopReason) return { outcome: stopReason, request: seen.request };
        if (!isRetryableWatchError(err)) throw err;
        failures++;
        opts.onReconnect?.(failures, err);
        await sleep(backoffDelay(failures, backoff), stop.signal);
      }
    }
  } finally {
    if (timer) clearTimeout(timer);
    clearTimeout(expiryTimer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** {@link waitForResolution} with the request as the model shapes it, for commands. */
export async function waitForRequest(
  conn: Connection,
  id: string,
  opts: WaitOptions = {},
): Promise<{ outcome: WaitOutcome; request?: AccessRequest }> {
  const result = await waitForResolution(conn, id, opts);
  return { outcome: result.outcome, request: result.request ? requestFromProto(result.request) : undefined };
}

/** What a wait knows of its request across reconnects. */
interface Seen {
  request?: AccessRequestV3;
  /** The request's owner, named in the watch filter. */
  user?: string;
  /** Records the request as last seen (and when it lapses). */
  update(req: AccessRequestV3): void;
}

/** When a request lapses while pending (spec.resource_expiry in v16+, else metadata.expires). */
function pendingExpiry(req: AccessRequestV3): number | undefined {
  const at = req.spec?.resourceExpiry ?? req.metadata?.expires;
  return at && at.getTime() > 0 ? at.getTime() : undefined;
}

/**
 * The delay before reconnect number `failures` (from 1), with equal jitter: a random delay
 * in the upper half of the capped exponential step.
 */
export function backoffDelay(
  failures: number,
  backoff: { initialMs: number; maxMs: number } = DEFAULT_BACKOFF,
): number {
  const step = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
  return step / 2 + Math.random() * (step / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts (the timer is cleared). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * One watch session. Returns an outcome, or throws: StreamBroken or an RpcError when the
 * stream fails (the caller decides whether to retry).
 */
async function followOnce(
  conn: Connection,
  id: string,
  signal: AbortSignal,
  seen: Seen,
  onLive: () => void,
): Promise<WaitResult> {
  if (seen.user === undefined) {
    const owner = await readRequest(conn, id, signal);
    if (!owner) return { outcome: 'deleted', request: seen.request };
    seen.update(owner);
    seen.user = owner.spec?.user ?? '';
    const resolved = outcomeOf(owner);
    if (resolved) return { outcome: resolved, request: owner };
  }
  // As tsh's `await-request-approval` watcher: filter by the owner and the ID.
  const events = conn.auth.watchEvents(
    { kinds: [{ kind: 'access_request', filter: { id, user: seen.user } }] },
    { signal },
  );
  const it = events[Symbol.asyncIterator]();
  try {
    const first = await it.next();
    if (first.done) throw new StreamBroken('the watch ended before it was live');
    if (first.value.type !== Operation.INIT) {
      throw new StreamBroken('the watch sent an event before INIT');
    }

    const current = await readRequest(conn, id, signal);
    if (!current) return { outcome: 'deleted', request: seen.request };
    seen.update(current);
    onLive();
    const resolved = outcomeOf(current);
    if (resolved) return { outcome: resolved, request: current };

    for (;;) {
      const next = await it.next();
      if (next.done) throw new StreamBroken('the watch ended');
      const outcome = apply(next.value, id, seen);
      if (outcome) return { outcome, request: seen.request };
    }
  } finally {
    await it.return?.();
  }
}

/** Applies one event to the request being followed; returns the outcome it brings, if any. */
function apply(event: Event, id: string, seen: Seen): WaitOutcome | undefined {
  const res = event.resource;
  if (event.type === Operation.PUT && res?.$case === 'accessRequest') {
    if (res.value.metadata?.name !== id) return undefined;
    seen.update(res.value);
    return outcomeOf(res.value);
  }
  // DELETE events are not filtered by the server, so the name must be compared here.
  if (event.type === Operation.DELETE && res?.$case === 'resourceHeader') {
    const header = res.value;
    if (header.kind === 'access_request' && header.metadata?.name === id) return 'deleted';
  }
  return undefined;
}

/** Reads the request once; undefined when it no longer exists. */
async function readRequest(
  conn: Connection,
  id: string,
  signal: AbortSignal,
): Promise<AccessRequestV3 | undefined> {
  let found: AccessRequestV3 | undefined;
  for await (const r of conn.auth.getAccessRequestsV2({ id }, { signal, timeoutMs: conn.rpcTimeoutMs })) {
    if (r.metadata?.name === id) found = r;
  }
  return found;
}
