import { status } from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { FlagsOf } from '../../../src/cli/command.js';
import * as ls from '../../../src/cli/commands/request-ls.js';
import * as search from '../../../src/cli/commands/request-search.js';
import { CliContext } from '../../../src/cli/context.js';
import { type Connection, connect } from '../../../src/client/connect.js';
import {
  ListAccessRequestsResponse,
  ListResourcesResponse,
} from '../../../src/gen/teleport/legacy/client/proto/authservice.js';
import {
  type AccessRequestFilter,
  AccessRequestV3,
  RequestState,
  ServerV2,
} from '../../../src/gen/teleport/legacy/types/types.js';
import type { AccessRequest } from '../../../src/model/request.js';
import type { AuthServiceServer } from '../../../src/server/grpc-definitions.js';
import { fakeIO } from '../../helpers/run-cli.js';
import { makePki, type Pki, startAuthServer, type TestServer, userCredentials } from '../client/helpers.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');

function request(
  id: string,
  user: string,
  state: RequestState,
  minute: number,
  extra: { reviewedBy?: string; reason?: string } = {},
) {
  return AccessRequestV3.fromPartial({
    kind: 'access_request',
    version: 'v3',
    metadata: { name: id },
    spec: {
      user,
      roles: ['dba'],
      state,
      created: new Date(T0 + minute * 60_000),
      expires: new Date(T0 + 7 * 86_400_000),
      requestReason: extra.reason ?? '',
      reviews: extra.reviewedBy ? [{ author: extra.reviewedBy, proposedState: RequestState.APPROVED }] : [],
    },
  });
}

let pki: Pki;
let server: TestServer | undefined;
let conn: Connection | undefined;

beforeAll(async () => {
  pki = await makePki();
});

afterEach(async () => {
  conn?.close();
  await server?.close();
  conn = undefined;
  server = undefined;
});

async function serve(impl: Partial<AuthServiceServer>): Promise<Connection> {
  server = await startAuthServer(impl, pki);
  conn = await connect({ authServer: server.address, credentials: await userCredentials(pki) });
  return conn;
}

async function runLs(c: Connection, flags: Partial<FlagsOf<typeof ls.define>>) {
  const io = fakeIO({ env: { ACCESS_FORMAT: 'json' } });
  const ctx = Object.assign(new CliContext(io), { connect: async () => c });
  // The fixtures' access expired long ago: --all keeps them.
  const code = await ls.run(ctx, ls.parse([], { sort: 'created', all: true, ...flags }));
  return { code, rows: JSON.parse(io.out.text) as AccessRequest[] };
}

describe('request ls against a server without ListAccessRequests (before v14)', () => {
  // What such a server holds; alice is the caller. It filters by id, user and state only
  // (the old AccessRequestFilter.Match) and knows nothing of scopes or sorting.
  const held = [
    request('a1', 'alice', RequestState.PENDING, 1),
    request('b1', 'bob', RequestState.PENDING, 2),
    request('a2', 'alice', RequestState.APPROVED, 3),
    request('b2', 'bob', RequestState.PENDING, 4, { reviewedBy: 'alice' }),
    request('c1', 'carol', RequestState.DENIED, 5),
    request('b3', 'bob', RequestState.PENDING, 6),
  ];
  const filters: AccessRequestFilter[] = [];
  const oldServer: Partial<AuthServiceServer> = {
    getAccessRequestsV2: (call) => {
      const f = call.request;
      filters.push(f);
      for (const r of held) {
        if (f.user && r.spec!.user !== f.user) continue;
        if (f.state && r.spec!.state !== f.state) continue;
        call.write(r);
      }
      call.end();
    },
  };
  const ids = (rows: AccessRequest[]) => rows.map((r) => r.id);

  test('lists every request, newest first, as ListAccessRequests would', async () => {
    const c = await serve(oldServer);
    const r = await runLs(c, {});
    expect(r.code).toBe(0);
    expect(ids(r.rows)).toEqual(['b3', 'c1', 'b2', 'a2', 'b1', 'a1']);
  });

  test('--mine --sort state --asc --limit: scoped, sorted by state name, cut locally', async () => {
    const c = await serve(oldServer);
    const r = await runLs(c, { mine: true, sort: 'state', asc: true, limit: '1' });
    expect(ids(r.rows)).toEqual(['a2']);
    const all = await runLs(c, { mine: true, sort: 'state', asc: true });
    expect(ids(all.rows)).toEqual(['a2', 'a1']);
  });

  test('--search matches locally as AccessRequestV3.MatchSearch: IDs, users, roles; not reasons', async () => {
    const c = await serve(oldServer);
    expect(ids((await runLs(c, { search: 'BOB' })).rows)).toEqual(['b3', 'b2', 'b1']);
    expect(ids((await runLs(c, { search: 'a2 dba' })).rows)).toEqual(['a2']);
    expect(ids((await runLs(c, { search: 'PENDING' })).rows)).toEqual([]);
  });

  test('--reviewable: pending requests of others that I have not reviewed; --state and --user go to the server', async () => {
    const c = await serve(oldServer);
    expect(ids((await runLs(c, { reviewable: true, sort: 'user', asc: true })).rows)).toEqual(['b1', 'b3']);
    filters.length = 0;
    expect(ids((await runLs(c, { user: 'bob', state: 'PENDING' })).rows)).toEqual(['b3', 'b2', 'b1']);
    expect(filters).toMatchObject([{ user: 'bob', state: RequestState.PENDING }]);
  });
});

describe('pages bigger than gRPC allows', () => {
  test('ls reads a page over 4 MiB (the receive limit is raised)', async () => {
    const reason = 'x'.repeat(30_000);
    const big = Array.from({ length: 200 }, (_, i) =>
      request(`r${String(i).padStart(3, '0')}`, 'alice', RequestState.PENDING, i, { reason }),
    );
    const c = await serve({
      listAccessRequests: (call, cb) => {
        const items = big.slice(0, call.request.limit);
        cb(null, ListAccessRequestsResponse.fromPartial({ accessRequests: items, nextKey: '' }));
      },
    });
    expect(
      ListAccessRequestsResponse.encode({ accessRequests: big, nextKey: '' }).finish().length,
    ).toBeGreaterThan(4 * 1024 * 1024);
    const r = await runLs(c, {});
    expect(r.code).toBe(0);
    expect(r.rows).toHaveLength(200);
  });

  test('ls halves the page on RESOURCE_EXHAUSTED until the server answers, and keeps paging', async () => {
    const all = Array.from({ length: 120 }, (_, i) =>
      request(`r${String(i).padStart(3, '0')}`, 'alice', RequestState.PENDING, i),
    );
    const limits: number[] = [];
    const c = await serve({
      listAccessRequests: (call, cb) => {
        const { limit, startKey } = call.request;
        limits.push(limit);
        if (limit > 62) {
          cb({ code: status.RESOURCE_EXHAUSTED, details: 'grpc: received message larger than max' });
          return;
        }
        const from = startKey === '' ? 0 : Number(startKey);
        const next = from + limit < all.length ? String(from + limit) : '';
        cb(
          null,
          ListAccessRequestsResponse.fromPartial({
            accessRequests: all.slice(from, from + limit),
            nextKey: next,
          }),
        );
      },
    });
    const r = await runLs(c, {});
    expect(r.code).toBe(0);
    expect(r.rows).toHaveLength(120);
    expect(limits).toEqual([500, 250, 125, 62, 62]);
  });

  test('search halves the page on RESOURCE_EXHAUSTED', async () => {
    const nodes = Array.from({ length: 70 }, (_, i) =>
      ServerV2.fromPartial({
        kind: 'node',
        version: 'v2',
        metadata: { name: `n${i}` },
        spec: { hostname: `host${i}` },
      }),
    );
    const limits: number[] = [];
    const c = await serve({
      listResources: (call, cb) => {
        const { limit, startKey } = call.request;
        limits.push(limit);
        if (limit > 100) {
          cb({ code: status.RESOURCE_EXHAUSTED, details: 'page too large' });
          return;
        }
        const from = startKey === '' ? 0 : Number(startKey);
        const next = from + limit < nodes.length ? String(from + limit) : '';
        cb(
          null,
          ListResourcesResponse.fromPartial({
            resources: nodes
              .slice(from, from + limit)
              .map((n) => ({ resource: { $case: 'node', value: n } })),
            nextKey: next,
          }),
        );
      },
    });
    const io = fakeIO({ env: { ACCESS_FORMAT: 'json' } });
    const ctx = Object.assign(new CliContext(io), { connect: async () => c });
    const code = await search.run(ctx, search.parse([], { kind: 'node' }));
    expect(code).toBe(0);
    expect(JSON.parse(io.out.text)).toHaveLength(70);
    expect(limits).toEqual([500, 250, 125, 62, 62]);
  });
});
