/**
 * `request ls` pages through ListAccessRequests: every page is asked for once, in order,
 * the pages join into one JSON array, and a failing page fails the command.
 */
import { EventEmitter } from 'node:events';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as ls from '../../../src/cli/commands/request-ls.js';
import { CliContext } from '../../../src/cli/context.js';
import { type Connection, connect } from '../../../src/client/connect.js';
import type { ListAccessRequestsRequest } from '../../../src/gen/teleport/legacy/client/proto/authservice.js';
import { AccessRequestV3, RequestState } from '../../../src/gen/teleport/legacy/types/types.js';
import type { IO } from '../../../src/render/io.js';
import { fakeIO } from '../../helpers/run-cli.js';
import { deferred, makePki, startAuthServer, type TestServer, userCredentials } from '../client/helpers.js';

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

  async function run(opts: Partial<ls.LsOptions>, stdout?: IO['stdout']) {
    asked.length = 0;
    const base = fakeIO({ env: { ACCESS_FORMAT: 'json' } });
    const io = stdout ? { ...base, stdout } : base;
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

  test('the next page is asked for only once stdout has taken the last one', async () => {
    // A reader that is always behind: every write fills the buffer until 'drain'.
    let written = deferred();
    const stdout = Object.assign(new EventEmitter(), {
      chunks: [] as string[],
      write(chunk: string) {
        this.chunks.push(chunk);
        written.resolve();
        return false;
      },
    });
    const running = run({}, stdout);
    for (const page of [1, 2, 3]) {
      await written.promise;
      written = deferred();
      expect(stdout.chunks).toHaveLength(page);
      // No event marks a request that is not sent; 50 ms is ample for one to reach the server.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(asked).toHaveLength(page);
      stdout.emit('drain');
    }
    const r = await running;
    expect(r.code).toBe(0);
    expect(asked.map((a) => a.startKey)).toEqual(['', '500', '1000']);
    expect((JSON.parse(stdout.chunks.join('')) as { id: string }[]).map((x) => x.id)).toEqual(ids);
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
