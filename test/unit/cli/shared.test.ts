import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchRequest } from '../../../src/cli/commands/shared.js';
import { CliContext } from '../../../src/cli/context.js';
import { type Connection, connect } from '../../../src/client/connect.js';
import { RpcError } from '../../../src/client/errors.js';
import { fakeIO } from '../../helpers/run-cli.js';
import { makePki, startAuthServer, type TestServer, userCredentials } from '../client/helpers.js';

describe('fetchRequest', () => {
  let server: TestServer;
  let conn: Connection;

  beforeAll(async () => {
    const pki = await makePki();
    // A server that accepts the read and never answers it, as a wedged Auth Service would.
    server = await startAuthServer({ getAccessRequestsV2: () => {} }, pki);
    conn = await connect({
      authServer: server.address,
      credentials: await userCredentials(pki),
      rpcTimeoutMs: 300,
    });
  });

  afterAll(async () => {
    conn?.close();
    await server?.close();
  });

  test('a read the server never answers ends at the RPC deadline', async () => {
    const ctx = new CliContext(fakeIO());
    const err = await fetchRequest(ctx, conn, 'r1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe('DEADLINE_EXCEEDED');
  }, 5_000);
});
