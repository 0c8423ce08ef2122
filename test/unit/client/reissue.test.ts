import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/connect.js';
import { reissueCertificates, writeBackCredentials } from '../../../src/client/reissue.js';
import { Certs, type UserCertsRequest } from '../../../src/gen/teleport/legacy/client/proto/authservice.js';
import {
  createSshUserCertificate,
  formatIdentityFile,
  issueCertificate,
  parseIdentity,
  readIdentityFile,
  sshPublicKeyFromPem,
} from '../../../src/identity/index.js';
import type { Credentials } from '../../../src/identity/types.js';
import { makePki, type Pki, startAuthServer, type TestServer, userCredentials } from './helpers.js';

const HOUR = 3600_000;

describe('reissueCertificates', () => {
  let pki: Pki;
  let server: TestServer;
  const requests: UserCertsRequest[] = [];

  beforeAll(async () => {
    pki = await makePki();
    server = await startAuthServer(
      {
        // Issues for the public key it is given, adding the requested IDs as active requests.
        generateUserCerts: (call, cb) => {
          const req = call.request;
          requests.push(req);
          const publicKeyPem = req.tlsPublicKey.toString();
          issueCertificate({
            ca: pki.userCa,
            publicKeyPem,
            identity: {
              username: req.username,
              roles: ['requester', 'dba'],
              traits: {},
              activeRequests: req.accessRequests,
              allowedResourceIds: [],
            },
            notAfter: req.expires ?? new Date(Date.now() + HOUR),
            now: new Date(),
          }).then((tls) => {
            const ssh =
              req.sshPublicKey.length > 0
                ? createSshUserCertificate({
                    caKeyPem: pki.userCa.keyPem,
                    publicKeySsh: req.sshPublicKey.toString().trim(),
                    keyId: req.username,
                    principals: [req.username],
                    validAfter: new Date(),
                    validBefore: req.expires ?? new Date(Date.now() + HOUR),
                  })
                : '';
            cb(null, Certs.fromPartial({ tls: Buffer.from(tls), ssh: Buffer.from(ssh) }));
          }, cb);
        },
      },
      pki,
    );
  });

  afterAll(async () => {
    await server?.close();
  });

  it('asks for the same user, key and expiry, with the requests to add and drop', async () => {
    const creds = await userCredentials(pki, { username: 'alice', activeRequests: ['old-request'] });
    const conn = await connect({ authServer: server.address, credentials: creds });
    try {
      const out = await reissueCertificates(conn, {
        accessRequests: ['req-1'],
        dropAccessRequests: ['old-request'],
      });
      const sent = requests.at(-1)!;
      expect(sent.username).toBe('alice');
      expect(sent.expires?.getTime()).toBe(conn.identity.expires.getTime());
      expect(sent.accessRequests).toEqual(['req-1']);
      expect(sent.dropAccessRequests).toEqual(['old-request']);
      expect(sent.sshPublicKey.length).toBe(0);
      const expectedKey = createPublicKey(creds.keyPem).export({ type: 'spki', format: 'der' });
      expect(createPublicKey(sent.tlsPublicKey.toString()).export({ type: 'spki', format: 'der' })).toEqual(
        expectedKey,
      );
      expect(out.identity.username).toBe('alice');
      expect(out.identity.activeRequests).toEqual(['req-1']);
      expect(parseIdentity(out.certPem).roles).toContain('dba');
      expect(out.sshCert).toBeUndefined();
    } finally {
      conn.close();
    }
  });

  it('also asks for an SSH certificate for the same key when an identity file carries one', async () => {
    const base = await userCredentials(pki);
    const sshLine = createSshUserCertificate({
      caKeyPem: pki.userCa.keyPem,
      publicKeySsh: sshPublicKeyFromPem(base.keyPem),
      keyId: 'alice',
      principals: ['alice'],
      validAfter: new Date(),
      validBefore: new Date(Date.now() + HOUR),
    });
    const creds: Credentials = {
      ...base,
      sshCert: sshLine,
      source: { kind: 'identity-file', path: '/unused' },
    };
    const conn = await connect({ authServer: server.address, credentials: creds });
    try {
      const out = await reissueCertificates(conn, { accessRequests: ['req-2'] });
      expect(requests.at(-1)?.sshPublicKey.toString().trim()).toBe(sshPublicKeyFromPem(base.keyPem));
      expect(out.sshCert).toMatch(/^ecdsa-sha2-nistp256-cert-v01@openssh\.com /);
      expect(out.sshCert).not.toBe(sshLine);
    } finally {
      conn.close();
    }
  });
});

describe('writeBackCredentials', () => {
  let pki: Pki;
  let dir: string;

  beforeAll(async () => {
    pki = await makePki();
  });

  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function reissuedFor(creds: Credentials): Promise<string> {
    return issueCertificate({
      ca: pki.userCa,
      publicKeyPem: createPublicKey(creds.keyPem).export({ type: 'spki', format: 'pem' }).toString(),
      identity: {
        username: 'alice',
        roles: ['dba'],
        traits: {},
        activeRequests: ['req-1'],
        allowedResourceIds: [],
      },
      notAfter: new Date(Date.now() + HOUR),
      now: new Date(),
    });
  }

  it('rewrites an identity file in place, mode 0600, keeping key and CAs', async () => {
    dir = await mkdtemp(join(tmpdir(), 'access-client-'));
    const path = join(dir, 'alice.pem');
    const base = await userCredentials(pki);
    await writeFile(path, formatIdentityFile(base), { mode: 0o600 });
    const creds = await readIdentityFile(path);
    const certPem = await reissuedFor(creds);

    await expect(writeBackCredentials(creds, certPem)).resolves.toBe('identity-file');
    const reread = await readIdentityFile(path);
    expect(reread.certPem.trim()).toBe(certPem.trim());
    expect(reread.keyPem).toBe(creds.keyPem);
    expect(reread.caPems).toEqual(creds.caPems);
    expect(parseIdentity(reread.certPem).activeRequests).toEqual(['req-1']);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('writes a new SSH certificate into the identity file when given one', async () => {
    dir = await mkdtemp(join(tmpdir(), 'access-client-'));
    const path = join(dir, 'alice.pem');
    const base = await userCredentials(pki);
    const ssh = (keyId: string) =>
      createSshUserCertificate({
        caKeyPem: pki.userCa.keyPem,
        publicKeySsh: sshPublicKeyFromPem(base.keyPem),
        keyId,
        principals: ['alice'],
        validAfter: new Date(),
        validBefore: new Date(Date.now() + HOUR),
      });
    await writeFile(path, formatIdentityFile({ ...base, sshCert: ssh('old') }), { mode: 0o600 });
    const creds = await readIdentityFile(path);
    const newSsh = ssh('new');
    await writeBackCredentials(creds, await reissuedFor(creds), newSsh);
    expect((await readIdentityFile(path)).sshCert).toBe(newSsh);
  });

  it('leaves a TLS trio untouched (read-only)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'access-client-'));
    const base = await userCredentials(pki);
    const certPath = join(dir, 'auth.crt');
    await writeFile(certPath, base.certPem);
    const creds: Credentials = {
      ...base,
      source: { kind: 'tls-trio', certPath, keyPath: join(dir, 'auth.key'), caPath: join(dir, 'auth.cas') },
    };
    await expect(writeBackCredentials(creds, await reissuedFor(creds))).resolves.toBe('read-only');
    expect(await readFile(certPath, 'utf8')).toBe(base.certPem);
  });
});
