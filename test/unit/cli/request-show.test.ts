import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as show from '../../../src/cli/commands/request-show.js';
import { CliContext } from '../../../src/cli/context.js';
import { type Connection, connect } from '../../../src/client/connect.js';
import { AccessRequestV3, RequestState } from '../../../src/gen/teleport/legacy/types/types.js';
import { AccessError } from '../../../src/model/errors.js';
import { fakeIO } from '../../helpers/run-cli.js';
import { deferred, makePki, startAuthServer, type TestServer, userCredentials } from '../client/helpers.js';

const ID = '0193c1e2-0000-7000-8000-0000000000aa';

describe('request show', () => {
  let server: TestServer;
  let conn: Connection;
  const listing = deferred();

  beforeAll(async () => {
    const pki = await makePki();
    server = await startAuthServer(
      {
        getAccessRequestsV2: (call) => {
          call.write(
            AccessRequestV3.fromPartial({
              kind: 'access_request',
              version: 'v3',
              metadata: { name: ID },
              spec: {
                user: 'alice',
                state: RequestState.PENDING,
                requestedResourceIds: [{ clusterName: 'local', kind: 'node', name: 'n1' }],
              },
            }),
          );
          call.end();
        },
        // The hostname lookup hangs until the test interrupts it.
        listResources: () => listing.resolve(),
      },
      pki,
    );
    conn = await connect({ authServer: server.address, credentials: await userCredentials(pki) });
  });

  afterAll(async () => {
    conn?.close();
    await server?.close();
  });

  test('Ctrl-C during the best-effort hostname lookup still interrupts the command', async () => {
    const abort = new AbortController();
    const io = fakeIO({ signal: abort.signal });
    const ctx = Object.assign(new CliContext(io), { connect: async () => conn });
    const running = show.run(ctx, { ids: [ID] });
    await listing.promise;
    abort.abort();
    const err = await running.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AccessError);
    expect((err as AccessError).kind).toBe('interrupted');
    expect(io.out.text).toBe('');
  }, 10_000);
});
