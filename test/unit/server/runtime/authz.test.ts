import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKey } from '../../../../src/identity/keys.js';
import { createCertificateAuthority, issueCertificate } from '../../../../src/identity/x509.js';
import { callerOf } from '../../../../src/server/authz.js';

async function certDer(notAfter: Date): Promise<Buffer> {
  const now = new Date();
  const ca = await createCertificateAuthority({ clusterName: 'local', kind: 'user', now });
  const key = await generateKey('ecdsa-p256');
  const pem = await issueCertificate({
    ca,
    publicKeyPem: key.publicKeyPem,
    identity: {
      username: 'alice',
      roles: ['requester', 'dba'],
      traits: { logins: ['alice'] },
      activeRequests: ['0193c1e2-0000-7000-8000-000000000001'],
      allowedResourceIds: ['/local/node/n1'],
    },
    notAfter,
    now,
  });
  return new X509Certificate(pem).raw;
}

const callWith = (raw?: Buffer) => ({
  getAuthContext: () => ({
    transportSecurityType: 'ssl',
    sslPeerCertificate: raw ? ({ raw } as never) : undefined,
  }),
});

describe('callerOf', () => {
  it('reads the Teleport identity from the client certificate', async () => {
    const raw = await certDer(new Date(Date.now() + 3_600_000));
    expect(callerOf(callWith(raw), new Date())).toMatchObject({
      user: 'alice',
      roles: ['requester', 'dba'],
      traits: { logins: ['alice'] },
      activeRequests: ['0193c1e2-0000-7000-8000-000000000001'],
      allowedResourceIds: ['/local/node/n1'],
    });
  });

  it('refuses a call without a certificate as Unauthenticated', () => {
    expect(() => callerOf(callWith(), new Date())).toThrow(expect.objectContaining({ code: 16 }));
  });

  it('refuses an expired certificate as Unauthenticated', async () => {
    const raw = await certDer(new Date(Date.now() + 60_000));
    expect(() => callerOf(callWith(raw), new Date(Date.now() + 120_000))).toThrow(
      expect.objectContaining({ code: 16, message: expect.stringMatching(/expired/) }),
    );
  });

  it('refuses a certificate without a Teleport identity', () => {
    expect(() => callerOf(callWith(Buffer.from('not a cert')), new Date())).toThrow(
      expect.objectContaining({ code: 16 }),
    );
  });
});
