/**
 * `request ls` pages through ListAccessRequests: every page is asked for once, in order,
 * the pages join into one JSON array, and a failing page fails the command.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as ls from '../../../src/cli/commands/request-ls.js';
import { CliContext } from '../../../src/cli/context.js';
import { type Connection, connect } from '../../../src/client/connect.js';
import type { ListAccessRequestsRequest } from '../../../src/gen/teleport/legacy/client/proto/authservice.js';
import { AccessRequestV3, RequestState } from '../../../src/gen/teleport/legacy/types/types.js';
import { fakeIO } from '../../helpers/run-cli.js';
import { makePki, startAuthServer, type TestServer, userCredentials } from '../client/helpers.js';

const TOTAL = 1100;
const ids = Array.from({ length: TOTAL }, (_, i) => `req-${String(i).padStart(4, '0')}`);

describe('request ls paging', () => {
  let server: TestServer;
  let conn: Connection;
  const asked: { startKey: string; limit: number }[] = [];
  /** startKey of a page the server fails with Unavailable. */
  let failAt: string | undefined;

  beforeAll(async () => {
    const pki = await makePki();
    server = await startAuthServer(
      {
        listAccessRequests: (call, callback) => {
          const req = call.request as ListAccessRequestsRequest;
          asked.push({ startKey: req.startKey, limit: req.limit });
          if (req.startKey === failAt) {
            callback({ code: status.UNAVAILABLE, details: 'backend went away' });
            return;
          }
          const from = req.startKey === '' ? 0 : Number(req.startKey);
          const to = Math.min(TOTAL, from + req.limit);
          callback(null, {
            accessRequests: ids.slice(from, to).map((id) =>
              AccessRequestV3.fromPartial({
                kind: 'access_request',
                version: 'v3',
                metadata: { name: id },
                spec: { user: 'alice', roles: ['dba'], state: RequestState.PENDING },
              }),
            ),
            nextKey: to < TOTAL ? String(to) : '',
          });
        },
      },
      pki,
    );
    conn = await connect({ authServer: server.address, credentials: await userCredentials(pki) });
  });

  afterAll(async () => {
    conn?.close();
    await server?.close();
  });

  async function run(opts: Partial<ls.LsOptions>) {
    asked.length = 0;
    const io = fakeIO({ env: { ACCESS_FORMAT: 'json' } });
    const ctx = Object.assign(new CliContext(io), { connect: async () => conn });
    const options: ls.LsOptions = {
      mine: false,
      reviewable: false,
      suggested: false,
      reviewed: false,
      search: [],
      all: true,
      sort: 'created',
      ascending: false,
      ...opts,
    };
    const result = await ls.run(ctx, options).then(
      (code) => ({ code, error: undefined }),
      (error: unknown) => ({ code: undefined, error }),
    );
    return { ...result, text: io.out.text };
  }

  test('every page once, in order, joined into one JSON array', async () => {
    const r = await run({});
    expect(r.code).toBe(0);
    expect((JSON.parse(r.text) as { id: string }[]).map((x) => x.id)).toEqual(ids);
    expect(asked).toEqual([
      { startKey: '', limit: 500 },
      { startKey: '500', limit: 500 },
      { startKey: '1000', limit: 500 },
    ]);
  });

  test('--limit asks for no more than it shows', async () => {
    const r = await run({ limit: 550 });
    expect((JSON.parse(r.text) as { id: string }[]).map((x) => x.id)).toEqual(ids.slice(0, 550));
    expect(asked).toEqual([
      { startKey: '', limit: 500 },
      { startKey: '500', limit: 50 },
    ]);
  });

  test('a failing page fails the command', async () => {
    failAt = '500';
    try {
      const r = await run({});
      expect(r.error).toMatchObject({ kind: 'unavailable' });
      expect(r.error).toHaveProperty('message', expect.stringContaining('backend went away'));
    } finally {
      failAt = undefined;
    }
  });
});
