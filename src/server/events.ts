/**
 * Watch fan-out for `WatchEvents`: every committed change of the store is offered to each
 * subscriber, and reaches it when one of its watch kinds matches as Teleport decides
 * (api/types/events.go, WatchKind.Matches: the kind, then the name when set, then the filter,
 * which applies to PUT events only); who may watch is decided once, when the watch starts
 * (planWatch). A subscriber that stops reading is cut off once its backlog
 * passes a bound, so it never holds up the others or grows memory without limit.
 */

import { status } from '@grpc/grpc-js';
import type { AccessMonitoringRule } from '../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules.js';
import { type Event, Operation, type Watch } from '../gen/teleport/legacy/client/proto/authservice.js';
import { type AccessRequestV3, RequestState, type WatchKind } from '../gen/teleport/legacy/types/types.js';
import type { RuleCommit } from './storage/amr-store.js';
import type { Commit } from './storage/store.js';
import { accessDenied, badParameter, ServerError } from './types.js';

export const ACCESS_REQUEST_KIND = 'access_request';
/** Watched with `read` on it (auth_with_roles.go, hasWatchPermissionForKind: the default case). */
export const ACCESS_MONITORING_RULE_KIND = 'access_monitoring_rule';

/** One access_request WatchKind's filter; unset fields match anything. */
export interface RequestFilter {
  id?: string;
  user?: string;
  state?: RequestState;
}

/** One confirmed watch kind, as events are matched against it (WatchKind.Matches). */
export interface WatchTarget {
  kind: string;
  /** Only events of the resource with this name (WatchKind.Name; unset = any). */
  name?: string;
  /** The access_request filter, applied to PUT events only. */
  filter: RequestFilter;
}

/** A validated watch: the kinds confirmed in INIT and what each lets through. */
export interface WatchPlan {
  confirmed: WatchKind[];
  targets: WatchTarget[];
}

const STATE_NAMES: Record<string, RequestState> = {
  NONE: RequestState.NONE,
  PENDING: RequestState.PENDING,
  APPROVED: RequestState.APPROVED,
  DENIED: RequestState.DENIED,
  PROMOTED: RequestState.PROMOTED,
};

/**
 * Validates and authorizes a Watch as lib/auth/auth_with_roles.go, authorizeWatchRequest does:
 * no kinds is a global watch, refused; each kind must have a valid filter and pass
 * `authorize` (access_request) or `authorizeKind` (every other kind: hasWatchPermissionForKind's
 * `read` on the kind, checked before the kind is known to be watchable here) and be supported;
 * with AllowPartialSuccess a kind that fails is left out (and the watch fails when none is
 * left), otherwise the first failure ends the watch.
 */
export function planWatch(
  watch: Watch,
  authorize: (filter: RequestFilter) => void = () => {},
  authorizeKind: (kind: string) => void = () => {},
): WatchPlan {
  if (watch.kinds.length === 0) throw accessDenied("can't setup global watch");
  const confirmed: WatchKind[] = [];
  const targets: WatchTarget[] = [];
  for (const kind of watch.kinds) {
    try {
      let filter: RequestFilter = {};
      if (kind.kind === ACCESS_REQUEST_KIND) {
        filter = parseFilter(kind.filter);
        authorize(filter);
      } else {
        authorizeKind(kind.kind);
        if (kind.kind !== ACCESS_MONITORING_RULE_KIND)
          throw badParameter(`watcher: unsupported kind "${kind.kind}"`);
      }
      targets.push(kind.name ? { kind: kind.kind, name: kind.name, filter } : { kind: kind.kind, filter });
      confirmed.push(kind);
    } catch (err) {
      if (watch.allowPartialSuccess && err instanceof ServerError) continue;
      throw err;
    }
  }
  if (confirmed.length === 0) throw badParameter('none of the requested kinds can be watched');
  return { confirmed, targets };
}

/**
 * Whether an event reaches a watch kind (api/types/events.go, WatchKind.Matches): the kind
 * must match, then the name when the kind names one; the filter applies to PUT events of
 * access requests only ("we don't have a good model for filtering non-put events").
 */
export function targetMatches(
  target: WatchTarget,
  kind: string,
  name: string,
  put?: AccessRequestV3,
): boolean {
  if (target.kind !== kind) return false;
  if (target.name !== undefined && target.name !== name) return false;
  return put === undefined || matchesFilter(put, target.filter);
}

function parseFilter(map: Record<string, string>): RequestFilter {
  const filter: RequestFilter = {};
  for (const [key, value] of Object.entries(map)) {
    switch (key) {
      case 'id':
        if (value) filter.id = value;
        break;
      case 'user':
        if (value) filter.user = value;
        break;
      case 'state': {
        const state = STATE_NAMES[value];
        if (state === undefined) throw badParameter(`unknown request state "${value}"`);
        if (state !== RequestState.NONE) filter.state = state;
        break;
      }
      default:
        throw badParameter(`unknown filter key ${key}`);
    }
  }
  return filter;
}

/** Whether a request passes a filter (the same rules as GetAccessRequestsV2). */
export function matchesFilter(req: AccessRequestV3, filter: RequestFilter): boolean {
  if (filter.id !== undefined && req.metadata?.name !== filter.id) return false;
  if (filter.user !== undefined && req.spec?.user !== filter.user) return false;
  if (filter.state !== undefined && req.spec?.state !== filter.state) return false;
  return true;
}

/** Where a subscriber's events go (a gRPC server stream in production). */
export interface EventSink {
  /** Queues an event. */
  write(event: Event): void;
  /** Events queued but not yet sent. */
  backlog(): number;
  /** Ends the stream, with an error status when `err` is given. */
  close(err?: ServerError): void;
}

export interface Subscription {
  /** Removes the subscriber without touching its stream (the client went away). */
  cancel(): void;
}

interface Subscriber {
  targets: WatchTarget[];
  sink: EventSink;
}

/**
 * Events a watcher may have queued (beyond what HTTP/2 flow control has taken) before it is
 * cut off: Teleport's lib/services/fanout.go, defaultQueueSize (64), the queue of each watcher
 * the auth server's fan-out feeds; its emit fails with "buffer overflow" once the queue is
 * full and the watcher is closed. 400 watchers that never read then hold at most 64 events
 * each instead of thousands.
 */
export const WATCH_QUEUE_SIZE = 64;

export interface WatchHubOptions {
  /** Backlog (events) at which a subscriber is cut off with ResourceExhausted. */
  maxBacklog?: number;
}

/** The INIT event Teleport sends first: a WatchStatus naming the confirmed kinds. */
export function initEvent(confirmed: WatchKind[]): Event {
  return {
    type: Operation.INIT,
    resource: {
      $case: 'watchStatus',
      value: {
        kind: 'watch_status',
        subKind: '',
        version: 'v1',
        metadata: {
          name: 'watch-status',
          namespace: 'default',
          description: '',
          labels: {},
          expires: undefined,
          revision: '',
        },
        spec: { kinds: confirmed },
      },
    },
  };
}

/** The DELETE event Teleport sends: a ResourceHeader naming the request. */
export function deleteEvent(id: string): Event {
  return {
    type: Operation.DELETE,
    resource: {
      $case: 'resourceHeader',
      value: {
        kind: ACCESS_REQUEST_KIND,
        subKind: '',
        version: 'v3',
        metadata: {
          name: id,
          namespace: 'default',
          description: '',
          labels: {},
          expires: undefined,
          revision: '',
        },
      },
    },
  };
}

function rulePutEvent(rule: AccessMonitoringRule): Event {
  return { type: Operation.PUT, resource: { $case: 'accessMonitoringRule', value: rule } };
}

function ruleDeleteEvent(name: string): Event {
  const header = deleteEvent(name);
  if (header.resource?.$case === 'resourceHeader') {
    header.resource.value.kind = ACCESS_MONITORING_RULE_KIND;
    header.resource.value.version = 'v1';
  }
  return header;
}

export function putEvent(req: AccessRequestV3): Event {
  return { type: Operation.PUT, resource: { $case: 'accessRequest', value: req } };
}

/** Subscribers of access-request changes. */
export class WatchHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly maxBacklog: number;

  constructor(opts: WatchHubOptions = {}) {
    this.maxBacklog = opts.maxBacklog ?? WATCH_QUEUE_SIZE;
  }

  /** Number of live subscribers. */
  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Registers a subscriber and queues its INIT event before anything else, so no change
   * committed after this call can be missed or arrive before INIT.
   */
  subscribe(plan: WatchPlan, sink: EventSink): Subscription {
    const sub: Subscriber = { targets: plan.targets, sink };
    this.subscribers.add(sub);
    sink.write(initEvent(plan.confirmed));
    return { cancel: () => this.subscribers.delete(sub) };
  }

  /** Offers a committed change to every subscriber. */
  publish(commit: Commit): void {
    this.deliver((sub) => this.eventFor(sub, commit));
  }

  /**
   * Offers a committed rule change to the subscribers watching access_monitoring_rule: PUT
   * carries the rule (Event arm 54), DELETE a ResourceHeader, as Teleport sends RFD 153 resources.
   */
  publishRule(commit: RuleCommit): void {
    const event = commit.rule ? rulePutEvent(commit.rule) : ruleDeleteEvent(commit.name);
    this.deliver((sub) =>
      sub.targets.some((t) => targetMatches(t, ACCESS_MONITORING_RULE_KIND, commit.name)) ? event : undefined,
    );
  }

  private deliver(eventFor: (sub: Subscriber) => Event | undefined): void {
    for (const sub of this.subscribers) {
      const event = eventFor(sub);
      if (!event) continue;
      if (sub.sink.backlog() >= this.maxBacklog) {
        // Teleport's emit answers trace.BadParameter("buffer overflow") (InvalidArgument). Ours is
        // ResourceExhausted: clients reconnect on it, as Teleport's own watchers do after any
        // watcher error, whereas they give up on InvalidArgument (client/wait.ts).
        this.subscribers.delete(sub);
        sub.sink.close(
          new ServerError(
            status.RESOURCE_EXHAUSTED,
            'watcher: buffer overflow, the client is not reading events fast enough',
          ),
        );
        continue;
      }
      try {
        sub.sink.write(event);
      } catch (err) {
        // One subscriber's failure must neither reach the committing caller nor the others.
        this.subscribers.delete(sub);
        sub.sink.close(new ServerError(status.INTERNAL, `watcher: ${(err as Error).message}`));
      }
    }
  }

  /** Ends every stream (server shutdown); clients see `err` and reconnect. */
  closeAll(err?: ServerError): void {
    for (const sub of this.subscribers) sub.sink.close(err);
    this.subscribers.clear();
  }

  private eventFor(sub: Subscriber, commit: Commit): Event | undefined {
    // A DELETE is a bare header, matched by kind and name only (WatchKind.Matches).
    const put = commit.op === 'delete' ? undefined : commit.after!;
    if (!sub.targets.some((t) => targetMatches(t, ACCESS_REQUEST_KIND, commit.id, put))) return undefined;
    return put ? putEvent(put) : deleteEvent(commit.id);
  }
}
