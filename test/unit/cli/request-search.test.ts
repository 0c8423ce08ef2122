import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as search from '../../../src/cli/commands/request-search.js';
import { CliContext } from '../../../src/cli/context.js';
import { type Connection, connect } from '../../../src/client/connect.js';
import { AccessError } from '../../../src/model/errors.js';
import { fakeIO } from '../../helpers/run-cli.js';
import { makePki, startAuthServer, type TestServer, userCredentials } from '../client/helpers.js';

// A server with AuthService only, as a real Teleport Auth Service is: it has no KubeService.
describe('request search --kind kube_resource against a server without KubeService', () => {
  let server: TestServer;
  let conn: Connection;

  beforeAll(async () => {
    const pki = await makePki();
    server = await startAuthServer({}, pki);
    conn = await connect({ authServer: server.address, credentials: await userCredentials(pki) });
  });

  afterAll(async () => {
    conn?.close();
    await server?.close();
  });

  test('fails with one line naming the missing service and a hint, not a raw Unimplemented', async () => {
    const io = fakeIO();
    const ctx = Object.assign(new CliContext(io), { connect: async () => conn });
    const opts = search.parse([], { kind: 'kube_resource', kubeKind: 'pods', kubeCluster: 'demo-kube' });
    const err = await search.run(ctx, opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AccessError);
    expect((err as AccessError).kind).toBe('failure');
    expect((err as AccessError).message).toBe(
      `${server.address} does not serve Kubernetes resource search (teleport.kube.v1.KubeService)`,
    );
    expect((err as AccessError).hint).toContain('tsh request search --kind kube_resource');
    expect(io.out.text).toBe('');
  });
});
