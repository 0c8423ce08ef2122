/** Local HTTPS receivers and a bridge configuration for webhook tests (loopback only). */
import { writeFile } from 'node:fs/promises';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generateKey } from '../../src/identity/keys.js';
import { createCertificateAuthority, issueCertificate } from '../../src/identity/x509.js';
import { verifySignature } from '../../src/webhook/sign.js';

export interface Tls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** A throwaway CA and a certificate for 127.0.0.1/localhost. */
export async function localTls(): Promise<Tls> {
  const now = new Date();
  const ca = await createCertificateAuthority({ clusterName: 'webhook-test', kind: 'host', now });
  const key = await generateKey('ecdsa-p256');
  const certPem = await issueCertificate({
    ca,
    publicKeyPem: key.publicKeyPem,
    identity: { username: 'receiver', roles: [], traits: {}, activeRequests: [], allowedResourceIds: [] },
    notAfter: new Date(now.getTime() + 3600_000),
    now,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  return { caPem: ca.certPem, certPem, keyPem: key.privateKeyPem };
}

export interface Received {
  path: string;
  body: { event_id: string; type: string; id: string; request: { state: string } | null };
  signed: boolean;
  at: number;
}

export interface Receiver {
  url: string;
  got: Received[];
  /** Resolves when `pred` holds for some received event (bounded). */
  waitFor(pred: (r: Received) => boolean, timeoutMs?: number): Promise<Received>;
  /** Answer this HTTP status instead of 200 (a failing receiver). */
  failWith?: number;
  close(): Promise<void>;
}

export async function startReceiver(tls: Tls, secret: Buffer, path = '/'): Promise<Receiver> {
  const got: Received[] = [];
  const waiters: { pred: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  let recv: Receiver;
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (recv.failWith) {
        res.writeHead(recv.failWith).end();
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const sig = req.headers['x-access-signature'] as string | undefined;
      const r: Received = {
        path: req.url ?? '',
        body: JSON.parse(raw),
        signed: verifySignature(secret, raw, sig, Math.floor(Date.now() / 1000), 300).ok,
        at: performance.now(),
      };
      got.push(r);
      for (const w of [...waiters]) {
        if (w.pred(r)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(r);
        }
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  recv = {
    url: `https://127.0.0.1:${port}${path}`,
    got,
    waitFor(pred, timeoutMs = 15_000) {
      const hit = got.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => {
          if (waiters.includes(w)) {
            waiters.splice(waiters.indexOf(w), 1);
            reject(
              new Error(
                `no matching webhook within ${timeoutMs}ms; got ${JSON.stringify(got.map((g) => g.body.event_id))}`,
              ),
            );
          }
        }, timeoutMs).unref();
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return recv;
}

/** Writes the TLS files, the secret and a bridge configuration into `dir`; returns the config path. */
export async function writeBridgeConfig(
  dir: string,
  opts: {
    identity: string;
    authServer: string;
    tls: Tls;
    secret: string;
    url: string;
    endpoints?: Record<string, string>;
    notifyOnly?: boolean;
    basicAuth?: { user: string; password: string };
    callbackPort?: number;
  },
): Promise<string> {
  await writeFile(join(dir, 'ca.pem'), opts.tls.caPem);
  await writeFile(join(dir, 'server.crt'), opts.tls.certPem);
  await writeFile(join(dir, 'server.key'), opts.tls.keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'signing.key'), `${opts.secret}\n`, { mode: 0o600 });
  const endpoints = Object.entries(opts.endpoints ?? {})
    .map(([k, v]) => `${k} = "${v}"`)
    .join('\n');
  const toml = `[teleport]
auth_server = "${opts.authServer}"
identity = "${opts.identity}"

[webhook]
webhook_url = "${opts.url}"
notify_only = ${opts.notifyOnly ?? false}
request_states = { "Pending" = true, "Approved" = true, "Denied" = true, "Deleted" = true }
signing_secret_file = "${join(dir, 'signing.key')}"
ca_file = "${join(dir, 'ca.pem')}"
state_file = "${join(dir, 'state.json')}"

[webhook.endpoints]
${endpoints}

[http]
listen_addr = "127.0.0.1:${opts.callbackPort ?? 0}"
https_key_file = "${join(dir, 'server.key')}"
https_cert_file = "${join(dir, 'server.crt')}"
${opts.basicAuth ? `\n[http.basic_auth]\nuser = "${opts.basicAuth.user}"\npassword = "${opts.basicAuth.password}"\n` : ''}
[log]
output = "stderr"
`;
  const path = join(dir, 'webhook.toml');
  await writeFile(path, toml);
  return path;
}
