import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatIdentityFile, readIdentityFile } from '../../../src/identity/identity-file.js';
import { readTshProfile } from '../../../src/identity/profile.js';
import { saveReissuedCertificate } from '../../../src/identity/reissue.js';
import { createSshUserCertificate, sshPublicKeyFromPem } from '../../../src/identity/ssh.js';
import { parseIdentity } from '../../../src/identity/x509.js';
import { ALICE, caught, NOW, reissue, tempDir, type UserMaterial, userMaterial } from './fixtures.js';

describe('saveReissuedCertificate', () => {
  let m: UserMaterial;
  let sshCert: string;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    m = await userMaterial();
    sshCert = createSshUserCertificate({
      caKeyPem: m.ca.keyPem,
      publicKeySsh: sshPublicKeyFromPem(m.publicKeyPem),
      keyId: 'alice',
      principals: ['alice'],
      validAfter: NOW,
      validBefore: new Date(NOW.getTime() + 3600_000),
    });
  });
  beforeEach(async () => {
    tmp = await tempDir();
  });
  afterEach(() => tmp.cleanup());

  async function identityFile(): Promise<string> {
    const path = join(tmp.dir, 'alice.pem');
    await writeFile(
      path,
      formatIdentityFile({ keyPem: m.keyPem, sshCert, certPem: m.certPem, caPems: [m.ca.certPem] }),
    );
    return path;
  }

  it('rewrites an identity file with the new certificate and keeps the SSH certificate', async () => {
    const path = await identityFile();
    const creds = await readIdentityFile(path);
    const next = await reissue(m, { ...ALICE, activeRequests: ['req-1'] });
    const saved = await saveReissuedCertificate(creds, next);
    expect(saved).toEqual({ ...creds, certPem: next });
    const reread = await readIdentityFile(path);
    expect(reread).toEqual(saved);
    expect(parseIdentity(reread.certPem).activeRequests).toEqual(['req-1']);
  });

  it('drops the SSH certificate when the key changed, since it no longer matches', async () => {
    const path = await identityFile();
    const creds = await readIdentityFile(path);
    const fresh = await userMaterial('ecdsa-p256', ALICE, m.ca);
    const saved = await saveReissuedCertificate(creds, fresh.certPem, fresh.keyPem);
    expect(saved).not.toHaveProperty('sshCert');
    expect((await readIdentityFile(path)).keyPem).toBe(fresh.keyPem);
  });

  it('refuses a certificate for another key and leaves the file unchanged', async () => {
    const path = await identityFile();
    const before = await readFile(path, 'utf8');
    const creds = await readIdentityFile(path);
    const stranger = await userMaterial('ecdsa-p256', ALICE, m.ca);
    expect(await caught(() => saveReissuedCertificate(creds, stranger.certPem))).toEqual({
      kind: 'failure',
      message: 're-issued certificate does not match the private key; credentials left unchanged',
    });
    expect((await caught(() => saveReissuedCertificate(creds, 'not a certificate'))).message).toBe(
      're-issued certificate is not valid; credentials left unchanged',
    );
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('updates a tsh profile in place', async () => {
    const home = join(tmp.dir, '.tsh');
    const keys = join(home, 'keys', 'proxy.example.com');
    await mkdir(join(keys, 'cas'), { recursive: true });
    await writeFile(join(home, 'current-profile'), 'proxy.example.com');
    await writeFile(
      join(home, 'proxy.example.com.yaml'),
      'web_proxy_addr: proxy.example.com:443\nuser: alice\n',
    );
    await writeFile(join(keys, 'alice.crt'), m.certPem);
    await writeFile(join(keys, 'alice.key'), m.keyPem);
    await writeFile(join(keys, 'cas', 'example.com.pem'), m.ca.certPem);
    const next = await reissue(m, { ...ALICE, activeRequests: ['req-2'] });
    await saveReissuedCertificate(await readTshProfile(home), next);
    expect(await readFile(join(keys, 'alice.crt'), 'utf8')).toBe(next);
    expect(await readFile(join(keys, 'alice.key'), 'utf8')).toBe(m.keyPem);
  });

  it('treats a TLS trio as read-only', async () => {
    const creds = {
      certPem: m.certPem,
      keyPem: m.keyPem,
      caPems: [m.ca.certPem],
      source: { kind: 'tls-trio' as const, certPath: '/c', keyPath: '/k', caPath: '/a' },
    };
    expect(await caught(() => saveReissuedCertificate(creds, m.certPem))).toEqual({
      kind: 'usage',
      message: 'credentials from --cert/--key/--ca are read-only; the certificate was not saved',
    });
  });
});
