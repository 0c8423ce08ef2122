import { Metadata, type ServerWritableStream, status } from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, connect } from '../../../src/client/connect.js';
import { RpcError } from '../../../src/client/errors.js';
import { isRetryableWatchError, waitForResolution } from '../../../src/client/wait.js';
import { Event, Operation, type Watch } from '../../../src/gen/teleport/legacy/client/proto/authservice.js';
import {
  type AccessRequestFilter,
  AccessRequestV3,
  RequestState,
} from '../../../src/gen/teleport/legacy/types/types.js';
import type { Credentials } from '../../../src/identity/types.js';
import type { AuthServiceServer } from '../../../src/server/grpc-definitions.js';
import { makePki, type Pki, startAuthServer, type TestServer, userCredentials } from './helpers.js';

const ID = '0193c1e2-0000-7000-8000-000000000001';
const FAST = { initialMs: 5, maxMs: 20 };

type WatchCall = ServerWritableStream<Watch, Event>;

function request(id: string, state: RequestState): AccessRequestV3 {
  return AccessRequestV3.fromPartial({
    kind: 'access_request',
    version: 'v3',
    metadata: { name: id },
    spec: { user: 'alice', roles: ['dba'], state },
  });
}

/** Queue of values with promise-based takers, so tests wait on server events instead of sleeping. */
class Channel<T> {
  private items: T[] = [];
  private takers: ((v: T) => void)[] = [];
  push(v: T): void {
    const t = this.takers.shift();
    if (t) t(v);
    else this.items.push(v);
  }
  next(): Promise<T> {
    const v = this.items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((resolve) => this.takers.push(resolve));
  }
}

/** An AuthService whose watch streams the test drives by hand. */
class FakeAuth {
  store = new Map<string, AccessRequestV3>();
  log: string[] = [];
  watches = new Channel<WatchCall>();
  reads = new Channel<string>();
  cancelled = new Channel<true>();
  watchRequests: Watch[] = [];
  readError?: { code: number; details: string };
  /** What to do when a watch opens; by default send INIT at once. */
  onWatch: (call: WatchCall) => void = (call) => this.init(call);

  impl: Partial<AuthServiceServer> = {
    watchEvents: (call) => {
      this.log.push('watch');
      this.watchRequests.push(call.request);
      call.on('cancelled', () => {
        this.log.push('watch-cancelled');
        this.cancelled.push(true);
      });
      this.onWatch(call);
      this.watches.push(call);
    },
    getAccessRequestsV2: (call: ServerWritableStream<AccessRequestFilter, AccessRequestV3>) => {
      this.log.push('read');
      if (this.readError) {
        call.emit('error', { ...this.readError, metadata: new Metadata() });
      } else {
        const r = this.store.get(call.request.id);
        if (r) call.write(r);
        call.end();
      }
      this.reads.push(call.request.id);
    },
  };

  init(call: WatchCall): void {
    this.log.push('init');
    call.write(
      Event.fromPartial({
        type: Operation.INIT,
        resource: {
          $case: 'watchStatus',
          value: { kind: 'watch_status', metadata: { name: 'watch-status' } },
        },
      }),
    );
  }

  put(call: WatchCall, r: AccessRequestV3): void {
    this.store.set(r.metadata!.name, r);
    call.write(Event.fromPartial({ type: Operation.PUT, resource: { $case: 'accessRequest', value: r } }));
  }

  delete(call: WatchCall, id: string): void {
    this.store.delete(id);
    call.write(
      Event.fromPartial({
        type: Operation.DELETE,
        resource: {
          $case: 'resourceHeader',
          value: { kind: 'access_request', version: 'v3', metadata: { name: id, namespace: 'default' } },
        },
      }),
    );
  }
}

describe('waitForResolution', () => {
  let pki: Pki;
  let creds: Credentials;
  let fake: FakeAuth;
  let server: TestServer;
  let conn: Connection;

  beforeAll(async () => {
    pki = await makePki();
    creds = await userCredentials(pki);
  });

  async function start(): Promise<void> {
    fake = new FakeAuth();
    fake.store.set(ID, request(ID, RequestState.PENDING));
    server = await startAuthServer(fake.impl, pki);
    conn = await connect({ authServer: server.address, credentials: creds });
  }

  afterEach(async () => {
    conn?.close();
    await server?.close();
  });

  it('does not miss an approval that lands before the watch is live (reads after INIT)', async () => {
    await start();
    fake.onWatch = (call) => {
      // Approved just before the watch went live: no PUT will ever be sent for it.
      fake.store.set(ID, request(ID, RequestState.APPROVED));
      fake.log.push('approved');
      setImmediate(() => fake.init(call));
    };
    const result = await waitForResolution(conn, ID, { user: 'alice', timeoutMs: 10_000, backoff: FAST });
    expect(result.outcome).toBe('approved');
    expect(result.request?.spec?.state).toBe(RequestState.APPROVED);
    expect(fake.log.slice(0, 4)).toEqual(['watch', 'approved', 'init', 'read']);
    expect(fake.watchRequests[0].kinds).toEqual([
      expect.objectContaining({ kind: 'access_request', filter: { id: ID, user: 'alice' } }),
    ]);
  });

  it('follows PUT events to the approval, ignoring other requests', async () => {
    await start();
    const waiting = waitForResolution(conn, ID, { user: 'alice', timeoutMs: 10_000, backoff: FAST });
    const call = await fake.watches.next();
    await fake.reads.next();
    fake.put(call, request('someone-else', RequestState.APPROVED));
    fake.put(call, request(ID, RequestState.PENDING));
    fake.put(call, request(ID, RequestState.APPROVED));
    const result = await waiting;
    expect(result.outcome).toBe('approved');
    expect(result.request?.metadata?.name).toBe(ID);
  });

  it('reports a denial', async () => {
    await start();
    const waiting = waitForResolution(conn, ID, { user: 'alice', timeoutMs: 10_000, backoff: FAST });
    const call = await fake.watches.next();
    await fake.reads.next();
    fake.put(call, request(ID, RequestState.DENIED));
    await expect(waiting).resolves.toMatchObject({ outcome: 'denied' });
  });

  it('ends with deleted on a DELETE of this request, not of another one', async () => {
    await start();
    const waiting = waitForResolution(conn, ID, { user: 'alice', timeoutMs: 10_000, backoff: FAST });
    const call = await fake.watches.next();
    await fake.reads.next();
    fake.delete(call, 'someone-else');
    fake.delete(call, ID);
    const result = await waiting;
    expect(result.outcome).toBe('deleted');
    expect(result.request?.spec?.state).toBe(RequestState.PENDING);
  });

  it('ends with deleted when the request is gone at the first read', async () => {
    await start();
    fake.store.clear();
    await expect(
      waitForResolution(conn, ID, { user: 'alice', timeoutMs: 10_000, backoff: FAST }),
    ).resolves.toEqual({
      outcome: 'deleted',
      request: undefined,
    });
  });

  it('reconnects after the stream breaks, then INIT and a fresh read find the approval', async () => {
    await start();
    const reconnects: [number, unknown][] = [];
    const waiting = waitForResolution(conn, ID, {
      user: 'alice',
      timeoutMs: 10_000,
      backoff: FAST,
      onReconnect: (attempt, err) => reconnects.push([attempt, err]),
    });
    const first = await fake.watches.next();
    await fake.reads.next();
    // Approved while the stream is down: the PUT is lost with the stream.
    fake.store.set(ID, request(ID, RequestState.APPROVED));
    first.emit('error', {
      code: status.UNAVAILABLE,
      details: 'auth server shutting down',
      metadata: new Metadata(),
    });
    const result = await waiting;
    expect(result.outcome).toBe('approved');
    expect(reconnects).toHaveLength(1);
    expect(reconnects[0][0]).toBe(1);
    expect(reconnects[0][1]).toMatchObject({ code: 'UNAVAILABLE' });
    expect(fake.log.filter((l) => l === 'watch')).toHaveLength(2);
    expect(fake.log.filter((l) => l === 'read')).toHaveLength(2);
  });

  it('reconnects when the server ends the stream cleanly', async () => {
    await start();
    let attempts = 0;
    const waiting = waitForResolution(conn, ID, {
      user: 'alice',
      timeoutMs: 10_000,
      backoff: FAST,
      onReconnect: () => attempts++,
    });
    const first = await fake.watches.next();
    await fake.reads.next();
    first.end();
    const second = await fake.watches.next();
    await fake.reads.next();
    fake.put(second, request(ID, RequestState.APPROVED));
    await expect(waiting).resolves.toMatchObject({ outcome: 'approved' });
    expect(attempts).toBe(1);
  });

  it('survives a server restart on the same address', async () => {
    await start();
    const port = server.port;
    let attempts = 0;
    const waiting = waitForResolution(conn, ID, {
      user: 'alice',
      timeoutMs: 15_000,
      backoff: FAST,
      onReconnect: () => attempts++,
    });
    await fake.watches.next();
    await fake.reads.next();
    await server.close();

    const restarted = new FakeAuth();
    restarted.store.set(ID, request(ID, RequestState.APPROVED));
    server = await startAuthServer(restarted.impl, pki, port);
    await expect(waiting).resolves.toMatchObject({ outcome: 'approved' });
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(restarted.log.slice(0, 3)).toEqual(['watch', 'init', 'read']);
  });

  it('without the owner, reads the request first and watches with its user (as tsh does)', async () => {
    await start();
    fake.onWatch = (call) => {
      fake.store.set(ID, request(ID, RequestState.APPROVED));
      setImmediate(() => fake.init(call));
    };
    const result = await waitForResolution(conn, ID, { timeoutMs: 10_000, backoff: FAST });
    expect(result.outcome).toBe('approved');
    expect(fake.log.slice(0, 4)).toEqual(['read', 'watch', 'init', 'read']);
    expect(fake.watchRequests[0].kinds).toEqual([
      expect.objectContaining({ kind: 'access_request', filter: { id: ID, user: 'alice' } }),
    ]);
  });

  it('stops by itself at the pending expiry when no DELETE arrives (access_request_cache.go)', async () => {
    await start();
    const lapsing = request(ID, RequestState.PENDING);
    lapsing.metadata!.expires = new Date(Date.now() + 300);
    fake.store.set(ID, lapsing);
    const started = Date.now();
    const result = await waitForResolution(conn, ID, { user: 'alice', timeoutMs: 10_000, backoff: FAST });
    expect(result.outcome).toBe('expired');
    expect(result.request?.spec?.state).toBe(RequestState.PENDING);
    expect(Date.now() - started).toBeLessThan(5_000);
    await fake.cancelled.next();
  });

  it('gives up at the timeout with the request as last seen', async () => {
    await start();
    const started = Date.now();
    const result = await waitForResolution(conn, ID, { user: 'alice', timeoutMs: 300, backoff: FAST });
    expect(result.outcome).toBe('timeout');
    expect(result.request?.spec?.state).toBe(RequestState.PENDING);
    expect(Date.now() - started).toBeLessThan(5_000);
    // Leaving the wait cancels the watch on the server.
    await fake.cancelled.next();
  });

  it('stops with interrupted when the signal aborts', async () => {
    await start();
    const ac = new AbortController();
    const waiting = waitForResolution(conn, ID, { user: 'alice', signal: ac.signal, backoff: FAST });
    await fake.watches.next();
    await fake.reads.next();
    ac.abort();
    await expect(waiting).resolves.toMatchObject({ outcome: 'interrupted' });
    await fake.cancelled.next();
  });

  it('stops with interrupted during a backoff without waiting it out', async () => {
    await start();
    fake.onWatch = (call) =>
      call.emit('error', { code: status.UNAVAILABLE, details: 'not ready', metadata: new Metadata() });
    const ac = new AbortController();
    const started = Date.now();
    const result = await waitForResolution(conn, ID, {
      user: 'alice',
      signal: ac.signal,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      onReconnect: () => ac.abort(),
    });
    expect(result.outcome).toBe('interrupted');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('treats permission denied on the read as final', async () => {
    await start();
    fake.readError = { code: status.PERMISSION_DENIED, details: 'access denied to perform action "read"' };
    let attempts = 0;
    const err = await waitForResolution(conn, ID, {
      user: 'alice',
      timeoutMs: 10_000,
      backoff: FAST,
      onReconnect: () => attempts++,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: 'PERMISSION_DENIED', kind: 'permission' });
    expect(attempts).toBe(0);
  });
});

describe('isRetryableWatchError', () => {
  it('retries transport failures and gives up on what another attempt cannot fix', () => {
    expect(isRetryableWatchError(new RpcError('UNAVAILABLE', 'gone'))).toBe(true);
    expect(isRetryableWatchError(new RpcError('INTERNAL', 'oops'))).toBe(true);
    for (const code of [
      'PERMISSION_DENIED',
      'UNAUTHENTICATED',
      'NOT_FOUND',
      'INVALID_ARGUMENT',
      'UNIMPLEMENTED',
    ] as const) {
      expect(isRetryableWatchError(new RpcError(code, 'final'))).toBe(false);
    }
    expect(isRetryableWatchError(new TypeError('a bug'))).toBe(false);
  });
});
