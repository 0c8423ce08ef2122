import * as net from 'node:net';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  generateKey,
  issueCertificate,
} from '../../../src/identity/index.js';
import type { CredentialSource, Credentials } from '../../../src/identity/types.js';
import { type AuthServiceServer, AuthServiceService } from '../../../src/server/grpc-definitions.js';

export const CLUSTER = 'local';
const HOUR = 3600_000;

/** A user CA, a host CA and a server certificate for `teleport.cluster.local` and 127.0.0.1. */
export interface Pki {
  cluster: string;
  userCa: CertificateAuthority;
  hostCa: CertificateAuthority;
  serverCertPem: string;
  serverKeyPem: string;
}

export async function makePki(
  opts: { cluster?: string; dnsNames?: string[]; now?: Date } = {},
): Promise<Pki> {
  const cluster = opts.cluster ?? CLUSTER;
  const now = opts.now ?? new Date();
  const userCa = await createCertificateAuthority({ clusterName: cluster, kind: 'user', now });
  const hostCa = await createCertificateAuthority({ clusterName: cluster, kind: 'host', now });
  const key = await generateKey('ecdsa-p256');
  const serverCertPem = await issueCertificate({
    ca: hostCa,
    publicKeyPem: key.publicKeyPem,
    identity: { username: 'auth', roles: ['Admin'], traits: {}, activeRequests: [], allowedResourceIds: [] },
    notAfter: new Date(now.getTime() + 24 * HOUR),
    now,
    dnsNames: opts.dnsNames ?? ['teleport.cluster.local', '*.teleport.cluster.local', 'localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  return { cluster, userCa, hostCa, serverCertPem, serverKeyPem: key.privateKeyPem };
}

/** Credentials for `username` signed by the PKI's user CA, trusting its host CA. */
export async function userCredentials(
  pki: Pki,
  opts: {
    username?: string;
    roles?: string[];
    activeRequests?: string[];
    notAfter?: Date;
    now?: Date;
    source?: CredentialSource;
    teleportCluster?: string;
  } = {},
): Promise<Credentials> {
  const now = opts.now ?? new Date();
  const key = await generateKey('ecdsa-p256');
  const certPem = await issueCertificate({
    ca: pki.userCa,
    publicKeyPem: key.publicKeyPem,
    identity: {
      username: opts.username ?? 'alice',
      roles: opts.roles ?? ['requester'],
      traits: {},
      activeRequests: opts.activeRequests ?? [],
      allowedResourceIds: [],
      teleportCluster: opts.teleportCluster,
    },
    notAfter: opts.notAfter ?? new Date(now.getTime() + 8 * HOUR),
    now,
  });
  return {
    certPem,
    keyPem: key.privateKeyPem,
    caPems: [pki.hostCa.certPem],
    source: opts.source ?? {
      kind: 'tls-trio',
      certPath: '/dev/null',
      keyPath: '/dev/null',
      caPath: '/dev/null',
    },
  };
}

export interface TestServer {
  port: number;
  address: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Starts a grpc-js server on 127.0.0.1 (a free port unless `port` is given) with `impl`
 * for AuthService. With a PKI it requires mTLS (client certificates from the user CA);
 * without, it is plaintext.
 */
export async function startAuthServer(
  impl: Partial<AuthServiceServer>,
  pki?: Pki,
  port = 0,
): Promise<TestServer> {
  const server = new Server();
  server.addService(AuthServiceService, impl as UntypedServiceImplementation);
  const creds = pki
    ? ServerCredentials.createSsl(
        Buffer.from(pki.userCa.certPem),
        [{ private_key: Buffer.from(pki.serverKeyPem), cert_chain: Buffer.from(pki.serverCertPem) }],
        true,
      )
    : ServerCredentials.createInsecure();
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    port: bound,
    address: `127.0.0.1:${bound}`,
    server,
    // Node 20's http2 loops forever (allocating until OOM) when a session is destroyed from
    // a microtask still inside the native callback that reported a stream's cancellation,
    // which is where a test lands right after awaiting a server 'cancelled' event; setImmediate
    // leaves that callback first.
    close: () =>
      new Promise<void>((resolve) =>
        setImmediate(() => {
          server.forceShutdown();
          resolve();
        }),
      ),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A promise with its resolver, to wait on server-side events with the test's own timeout. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
