import v8 from 'node:v8';
import vm from 'node:vm';
import { Metadata, type ServerWritableStream, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, connect } from '../../../src/client/connect.js';
import { RpcError } from '../../../src/client/errors.js';
import { PingResponse } from '../../../src/gen/teleport/legacy/client/proto/authservice.js';
import {
  AccessCapabilities,
  AccessCapabilitiesRequest,
  type AccessRequestFilter,
  AccessRequestV3,
} from '../../../src/gen/teleport/legacy/types/types.js';
import { deferred, makePki, startAuthServer, type TestServer, userCredentials } from './helpers.js';

/** Requestable roles in the answer of user `late`: an answer of a few MB once decoded. */
const LATE_ROLES = 50_000;

describe('typed client over mTLS', () => {
  let server: TestServer;
  let conn: Connection;
  const debug: string[] = [];
  const seen: { capabilities?: AccessCapabilitiesRequest; peerCn?: string } = {};
  let streamCancelled = deferred();
  let heldCall = deferred();
  const heldLate = deferred();
  let lateAnswer = deferred();

  beforeAll(async () => {
    const pki = await makePki();
    server = await startAuthServer(
      {
        ping: (call, cb) => {
          const peer = call.getAuthContext().sslPeerCertificate;
          seen.peerCn = String(peer?.subject.CN);
          cb(null, PingResponse.fromPartial({ clusterName: 'local', serverVersion: '18.0.0' }));
        },
        getAccessCapabilities: (call, cb) => {
          seen.capabilities = call.request;
          if (call.request.user === 'ghost') {
            cb({ code: status.NOT_FOUND, details: 'user "ghost" is not found\nsecond line' }, null);
            return;
          }
          if (call.request.user === 'late') {
            heldLate.resolve();
            const roles = Array.from({ length: LATE_ROLES }, (_, i) => `role-${i}`);
            void lateAnswer.promise.then(() =>
              cb(null, AccessCapabilities.fromPartial({ requestableRoles: roles })),
            );
            return;
          }
          if (call.request.user === 'slow') {
            heldCall.resolve();
            return; // never answers: the client's deadline must end the call
          }
          cb(null, AccessCapabilities.fromPartial({ requestableRoles: ['dba'] }));
        },
        getAccessRequestsV2: (call: ServerWritableStream<AccessRequestFilter, AccessRequestV3>) => {
          if (call.request.user === 'endless') {
            call.on('cancelled', () => streamCancelled.resolve());
            let n = 0;
            const tick = () => {
              if (call.cancelled) return;
              call.write(AccessRequestV3.fromPartial({ metadata: { name: `r${n++}` } }), tick);
            };
            tick();
            return;
          }
          for (const name of ['a', 'b', 'c']) call.write(AccessRequestV3.fromPartial({ metadata: { name } }));
          if (call.request.user === 'broken') {
            call.emit('error', {
              code: status.PERMISSION_DENIED,
              details: 'access denied to list',
              metadata: new Metadata(),
            });
            return;
          }
          call.end();
        },
      },
      pki,
    );
    conn = await connect({
      authServer: server.address,
      credentials: await userCredentials(pki, { username: 'alice' }),
      debug: (line) => debug.push(line),
    });
  });

  afterAll(async () => {
    conn?.close();
    await server?.close();
  });

  it('makes unary calls with the client certificate', async () => {
    const res = await conn.auth.ping();
    expect(res.clusterName).toBe('local');
    expect(seen.peerCn).toBe('alice');
  });

  it('completes partial requests with the message defaults', async () => {
    const caps = await conn.auth.getAccessCapabilities({ user: 'bob', requestableRoles: true });
    expect(caps.requestableRoles).toEqual(['dba']);
    expect(seen.capabilities).toEqual(
      AccessCapabilitiesRequest.fromPartial({ user: 'bob', requestableRoles: true }),
    );
    expect(seen.capabilities?.resourceIds).toEqual([]);
  });

  it('maps a server status to an RpcError with its code, kind and one-line message', async () => {
    const err = await conn.auth.getAccessCapabilities({ user: 'ghost' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', kind: 'not-found' });
    expect((err as RpcError).message).toBe('user "ghost" is not found second line');
    expect((err as RpcError).details).toBe('user "ghost" is not found\nsecond line');
  });

  it('ends a unary call at its deadline with DEADLINE_EXCEEDED', async () => {
    heldCall = deferred();
    const started = Date.now();
    const err = await conn.auth.getAccessCapabilities({ user: 'slow' }, { timeoutMs: 300 }).catch((e) => e);
    await heldCall.promise;
    expect(err).toMatchObject({ code: 'DEADLINE_EXCEEDED', kind: 'failure' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('cancels a unary call when the signal aborts', async () => {
    heldCall = deferred();
    const ac = new AbortController();
    const pending = conn.auth.getAccessCapabilities({ user: 'slow' }, { signal: ac.signal });
    await heldCall.promise;
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED', kind: 'interrupted' });
  });

  it('reads a server stream to its end', async () => {
    const names: string[] = [];
    for await (const r of conn.auth.getAccessRequestsV2({})) names.push(r.metadata?.name ?? '');
    expect(names).toEqual(['a', 'b', 'c']);
  });

  it('delivers the messages sent before a stream fails, then throws the status', async () => {
    const names: string[] = [];
    const err = await (async () => {
      for await (const r of conn.auth.getAccessRequestsV2({ user: 'broken' }))
        names.push(r.metadata?.name ?? '');
    })().catch((e) => e);
    expect(names).toEqual(['a', 'b', 'c']);
    expect(err).toMatchObject({
      code: 'PERMISSION_DENIED',
      kind: 'permission',
      message: 'access denied to list',
    });
  });

  it('cancels the call when the consumer stops iterating', async () => {
    streamCancelled = deferred();
    let count = 0;
    for await (const _ of conn.auth.getAccessRequestsV2({ user: 'endless' })) {
      if (++count === 5) break;
    }
    await streamCancelled.promise;
    expect(count).toBe(5);
  });

  it('cancels a stream when the signal aborts, throwing kind interrupted', async () => {
    streamCancelled = deferred();
    const ac = new AbortController();
    let count = 0;
    const err = await (async () => {
      for await (const _ of conn.auth.getAccessRequestsV2({ user: 'endless' }, { signal: ac.signal })) {
        if (++count === 3) ac.abort();
      }
    })().catch((e) => e);
    await streamCancelled.promise;
    expect(err).toMatchObject({ code: 'CANCELLED', kind: 'interrupted' });
  });

  it('hands a unary answer to `read` and resolves with what it returns; a throw rejects the call', async () => {
    const roles = await conn.auth.getAccessCapabilities(
      { user: 'alice' },
      { read: (caps) => caps.requestableRoles.join(',') },
    );
    expect(roles).toBe('dba');
    const broken = new Error('cannot use this answer');
    await expect(
      conn.auth.getAccessCapabilities(
        { user: 'alice' },
        {
          read: () => {
            throw broken;
          },
        },
      ),
    ).rejects.toBe(broken);
  });

  it('keeps no reference to an answer once `read` has had it, so a page dies young', async () => {
    // A call's closures outlive a young-generation GC while the call waits for its answer,
    // so they sit in V8's old space; an answer they still pointed to after `read` survived
    // every young GC until the next full one and was promoted with them (a 100,000-request
    // listing promoted about 200 MB this way).
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (opts?: { type: 'minor' | 'major' }) => void;
    const oldSpace = () =>
      v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
    lateAnswer = deferred();
    const call = conn.auth.getAccessCapabilities(
      { user: 'late' },
      { read: (caps) => caps.requestableRoles.length },
    );
    await heldLate.promise;
    gc({ type: 'major' });
    gc({ type: 'minor' });
    gc({ type: 'minor' });
    const before = oldSpace();
    lateAnswer.resolve();
    expect(await call).toBe(LATE_ROLES);
    gc({ type: 'minor' });
    gc({ type: 'minor' });
    expect(oldSpace() - before).toBeLessThan(500_000);
  });

  it('logs method, duration and status per call, never payloads', () => {
    expect(debug).toContainEqual(expect.stringMatching(/^rpc Ping \d+ms OK$/));
    expect(debug).toContainEqual(expect.stringMatching(/^rpc GetAccessCapabilities \d+ms NOT_FOUND$/));
    expect(debug).toContainEqual(
      expect.stringMatching(/^rpc GetAccessCapabilities \d+ms DEADLINE_EXCEEDED$/),
    );
    expect(debug).toContainEqual(expect.stringMatching(/^rpc GetAccessRequestsV2 \d+ms CANCELLED$/));
    for (const line of debug) {
      expect(line).toMatch(/^rpc \w+ \d+ms [A-Z_]+$/);
      expect(line).not.toMatch(/ghost|bob|PRIVATE/);
    }
  });
});
