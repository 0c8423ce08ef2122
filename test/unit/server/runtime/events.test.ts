import { describe, expect, it } from 'vitest';
import { type Event, Operation } from '../../../../src/gen/teleport/legacy/client/proto/authservice.js';
import { type AccessRequestV3, RequestState } from '../../../../src/gen/teleport/legacy/types/types.js';
import { type EventSink, planWatch, WatchHub } from '../../../../src/server/events.js';
import type { Commit } from '../../../../src/server/storage/store.js';
import { ServerError } from '../../../../src/server/types.js';

function req(id: string, user: string, state = RequestState.PENDING): AccessRequestV3 {
  return {
    kind: 'access_request',
    subKind: '',
    version: 'v3',
    metadata: {
      name: id,
      namespace: 'default',
      description: '',
      labels: {},
      expires: undefined,
      revision: '1',
    },
    spec: { user, roles: ['dba'], state } as AccessRequestV3['spec'],
  };
}

const watchKind = (filter: Record<string, string> = {}, kind = 'access_request') => ({
  kind,
  loadSecrets: false,
  name: '',
  filter,
  subKind: '',
  version: '',
});

class FakeSink implements EventSink {
  events: Event[] = [];
  closedWith: ServerError | null | undefined;
  pending = 0;
  write(event: Event) {
    this.events.push(event);
  }
  backlog() {
    return this.pending;
  }
  close(err?: ServerError) {
    this.closedWith = err ?? null;
  }
  kinds() {
    return this.events.map((e) => `${Operation[e.type]}:${e.resource?.$case}`);
  }
}

const put = (after: AccessRequestV3, before?: AccessRequestV3): Commit => ({
  op: 'put',
  id: after.metadata!.name,
  before,
  after,
});
const del = (before: AccessRequestV3): Commit => ({
  op: 'delete',
  id: before.metadata!.name,
  before,
  after: undefined,
});

describe('planWatch', () => {
  it('confirms access_request kinds and parses filters', () => {
    const plan = planWatch({
      kinds: [watchKind({ id: 'x', user: 'alice', state: 'APPROVED' })],
      allowPartialSuccess: false,
    });
    expect(plan.targets.map((t) => t.filter)).toEqual([
      { id: 'x', user: 'alice', state: RequestState.APPROVED },
    ]);
    expect(plan.confirmed.map((k) => k.kind)).toEqual(['access_request']);
  });

  it('treats state NONE and empty values as no filter', () => {
    expect(
      planWatch({ kinds: [watchKind({ state: 'NONE', user: '' })], allowPartialSuccess: false }).targets.map(
        (t) => t.filter,
      ),
    ).toEqual([{}]);
  });

  it('rejects unknown filter keys and states with InvalidArgument', () => {
    expect(() => planWatch({ kinds: [watchKind({ x: '1' })], allowPartialSuccess: false })).toThrow(
      'unknown filter key x',
    );
    expect(() => planWatch({ kinds: [watchKind({ state: 'DONE' })], allowPartialSuccess: false })).toThrow(
      expect.objectContaining({ code: 3 }),
    );
  });

  it('checks the permission on another kind before saying it is unsupported', () => {
    const denyAll = (kind: string) => {
      throw new ServerError(7, `access denied to perform action "read" on "${kind}"`);
    };
    expect(() =>
      planWatch({ kinds: [watchKind({}, 'node')], allowPartialSuccess: false }, () => {}, denyAll),
    ).toThrow(
      expect.objectContaining({ code: 7, message: 'access denied to perform action "read" on "node"' }),
    );
  });

  it('rejects other kinds unless partial success is allowed', () => {
    expect(() =>
      planWatch({ kinds: [watchKind({}, 'node'), watchKind()], allowPartialSuccess: false }),
    ).toThrow('watcher: unsupported kind "node"');
    const plan = planWatch({ kinds: [watchKind({}, 'node'), watchKind()], allowPartialSuccess: true });
    expect(plan.confirmed.map((k) => k.kind)).toEqual(['access_request']);
    expect(() => planWatch({ kinds: [watchKind({}, 'node')], allowPartialSuccess: true })).toThrow(
      expect.objectContaining({ code: 3 }),
    );
  });
});

describe('planWatch authorization (auth_with_roles.go: authorizeWatchRequest)', () => {
  const ownOnly = (filter: { user?: string }) => {
    if (filter.user !== 'alice')
      throw new ServerError(7, 'access denied to perform action "read" on "access_request"');
  };

  it('refuses a watch without kinds as a global watch', () => {
    expect(() => planWatch({ kinds: [], allowPartialSuccess: false })).toThrow(
      expect.objectContaining({ code: 7, message: "can't setup global watch" }),
    );
  });

  it('ends the watch with the first refused kind', () => {
    expect(() => planWatch({ kinds: [watchKind({ id: 'x' })], allowPartialSuccess: false }, ownOnly)).toThrow(
      expect.objectContaining({
        code: 7,
        message: 'access denied to perform action "read" on "access_request"',
      }),
    );
    expect(
      planWatch({ kinds: [watchKind({ user: 'alice' })], allowPartialSuccess: false }, ownOnly).targets.map(
        (t) => t.filter,
      ),
    ).toEqual([{ user: 'alice' }]);
  });

  it('with partial success leaves refused kinds out, and fails when none is left', () => {
    const plan = planWatch(
      { kinds: [watchKind({}), watchKind({ user: 'alice' })], allowPartialSuccess: true },
      ownOnly,
    );
    expect(plan.targets.map((t) => t.filter)).toEqual([{ user: 'alice' }]);
    expect(() => planWatch({ kinds: [watchKind({})], allowPartialSuccess: true }, ownOnly)).toThrow(
      expect.objectContaining({ code: 3, message: 'none of the requested kinds can be watched' }),
    );
  });
});

describe('WatchHub', () => {
  it('sends INIT with the watch status first, then filtered PUTs', () => {
    const hub = new WatchHub();
    const sink = new FakeSink();
    hub.subscribe(planWatch({ kinds: [watchKind({ state: 'APPROVED' })], allowPartialSuccess: false }), sink);
    hub.publish(put(req('a', 'alice')));
    hub.publish(put(req('a', 'alice', RequestState.APPROVED)));
    expect(sink.kinds()).toEqual(['INIT:watchStatus', 'PUT:accessRequest']);
    const init = sink.events[0].resource;
    expect(init?.$case === 'watchStatus' && init.value).toMatchObject({
      kind: 'watch_status',
      version: 'v1',
      metadata: { name: 'watch-status' },
      spec: { kinds: [{ kind: 'access_request', filter: { state: 'APPROVED' } }] },
    });
  });

  it('does not filter DELETE by id/user/state or by owner, as Teleport does', () => {
    const hub = new WatchHub();
    const alice = new FakeSink();
    const bob = new FakeSink();
    hub.subscribe(planWatch({ kinds: [watchKind({ id: 'other' })], allowPartialSuccess: false }), alice);
    hub.subscribe(planWatch({ kinds: [watchKind({ user: 'bob' })], allowPartialSuccess: false }), bob);
    hub.publish(put(req('a', 'alice')));
    hub.publish(del(req('a', 'alice')));
    expect(alice.kinds()).toEqual(['INIT:watchStatus', 'DELETE:resourceHeader']);
    expect(bob.kinds()).toEqual(['INIT:watchStatus', 'DELETE:resourceHeader']);
    const header = alice.events[1].resource;
    expect(header?.$case === 'resourceHeader' && header.value).toMatchObject({
      kind: 'access_request',
      version: 'v3',
      metadata: { name: 'a', namespace: 'default' },
    });
  });

  it('matches the kind, then the name, before the filter (api/types/events.go: WatchKind.Matches)', () => {
    const hub = new WatchHub();
    const rules = new FakeSink();
    const named = new FakeSink();
    hub.subscribe(
      planWatch({ kinds: [watchKind({}, 'access_monitoring_rule')], allowPartialSuccess: false }),
      rules,
    );
    hub.subscribe(
      planWatch({ kinds: [{ ...watchKind({ user: 'bob' }), name: 'b' }], allowPartialSuccess: false }),
      named,
    );
    hub.publish(put(req('a', 'alice')));
    hub.publish(del(req('a', 'alice')));
    hub.publish(put(req('b', 'bob')));
    hub.publish(del(req('b', 'bob')));
    expect(rules.kinds()).toEqual(['INIT:watchStatus']);
    expect(named.kinds()).toEqual(['INIT:watchStatus', 'PUT:accessRequest', 'DELETE:resourceHeader']);
  });

  it('sends a user-filtered watcher only PUTs of that user', () => {
    const hub = new WatchHub();
    const carol = new FakeSink();
    hub.subscribe(planWatch({ kinds: [watchKind({ user: 'carol' })], allowPartialSuccess: false }), carol);
    hub.publish(put(req('a', 'alice')));
    hub.publish(put(req('c', 'carol')));
    expect(
      carol.events
        .slice(1)
        .map((e) => (e.resource?.$case === 'accessRequest' ? e.resource.value.metadata?.name : '')),
    ).toEqual(['c']);
  });

  it("by default cuts a subscriber off at Teleport's fan-out queue size, 64 events (lib/services/fanout.go)", () => {
    const hub = new WatchHub();
    const slow = new FakeSink();
    hub.subscribe(planWatch({ kinds: [watchKind()], allowPartialSuccess: false }), slow);
    slow.pending = 63;
    hub.publish(put(req('a', 'alice')));
    expect(slow.closedWith).toBeUndefined();
    slow.pending = 64;
    hub.publish(put(req('b', 'alice')));
    expect(slow.closedWith).toMatchObject({ code: 8 });
    expect(hub.size).toBe(0);
  });

  it('cuts off a subscriber whose backlog overflows without affecting others', () => {
    const hub = new WatchHub({ maxBacklog: 3 });
    const slow = new FakeSink();
    const fast = new FakeSink();
    const plan = planWatch({ kinds: [watchKind()], allowPartialSuccess: false });
    hub.subscribe(plan, slow);
    hub.subscribe(plan, fast);
    slow.pending = 3;
    hub.publish(put(req('a', 'alice')));
    hub.publish(put(req('b', 'alice')));
    expect(slow.closedWith).toMatchObject({ code: 8 });
    expect(slow.closedWith?.message).toMatch(/buffer overflow/);
    expect(fast.events).toHaveLength(3);
    expect(hub.size).toBe(1);
  });

  it('stops delivering after cancel and closes everyone on closeAll', () => {
    const hub = new WatchHub();
    const a = new FakeSink();
    const b = new FakeSink();
    const plan = planWatch({ kinds: [watchKind()], allowPartialSuccess: false });
    const sub = hub.subscribe(plan, a);
    hub.subscribe(plan, b);
    sub.cancel();
    hub.publish(put(req('a', 'alice')));
    expect(a.events).toHaveLength(1);
    hub.closeAll(new ServerError(14, 'server is shutting down'));
    expect(b.closedWith).toMatchObject({ code: 14 });
    expect(a.closedWith).toBeUndefined();
    expect(hub.size).toBe(0);
  });

  it('isolates a subscriber whose stream fails on write', () => {
    const hub = new WatchHub();
    const broken = new FakeSink();
    const fine = new FakeSink();
    const plan = planWatch({ kinds: [watchKind()], allowPartialSuccess: false });
    hub.subscribe(plan, broken);
    hub.subscribe(plan, fine);
    broken.write = () => {
      throw new Error('stream destroyed');
    };
    expect(() => hub.publish(put(req('a', 'alice')))).not.toThrow();
    expect(broken.closedWith).toMatchObject({ code: 13 });
    expect(fine.kinds()).toEqual(['INIT:watchStatus', 'PUT:accessRequest']);
  });
});
