import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../../src/identity/keys.js';
import {
  createSshUserCertificate,
  DEFAULT_SSH_EXTENSIONS,
  isSshCertificateLine,
  parseSshCertificate,
  publicKeyFromSshLine,
  sshCaKnownHostsLine,
  sshPublicKeyFromPem,
} from '../../../src/identity/ssh.js';
import { NOW, rsaKey, tempDir } from './fixtures.js';

function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // ssh-keygen prints usage and exits 1 for -?; only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

const VALID_AFTER = new Date(NOW.getTime() - 60_000);
const VALID_BEFORE = new Date(NOW.getTime() + 8 * 3600_000);

describe('ssh', () => {
  let ca: { privateKeyPem: string; publicKeyPem: string };
  let user: { privateKeyPem: string; publicKeyPem: string };
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    ca = await generateKey('ecdsa-p256');
    user = await generateKey('ecdsa-p256');
    tmp = await tempDir();
  });
  afterAll(() => tmp.cleanup());

  it('encodes public keys as authorized_keys lines that decode to the same key', async () => {
    const ecLine = sshPublicKeyFromPem(user.publicKeyPem);
    expect(ecLine).toMatch(
      /^ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABB[A-Za-z0-9+/=]+$/,
    );
    expect(publicKeyFromSshLine(ecLine).export({ type: 'spki', format: 'pem' })).toBe(user.publicKeyPem);
    const rsa = await rsaKey();
    const rsaLine = sshPublicKeyFromPem(rsa.privateKeyPem);
    expect(rsaLine).toMatch(/^ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB/);
    expect(publicKeyFromSshLine(`${rsaLine} comment`).export({ type: 'spki', format: 'pem' })).toBe(
      rsa.publicKeyPem,
    );
    expect(() => publicKeyFromSshLine('ssh-rsa !!!')).toThrow(/not an SSH public key line/);
  });

  it('creates a user certificate that parses back with the same fields and a valid CA signature', () => {
    const line = createSshUserCertificate({
      caKeyPem: ca.privateKeyPem,
      publicKeySsh: sshPublicKeyFromPem(user.publicKeyPem),
      keyId: 'alice',
      principals: ['alice', 'root', '-teleport-internal-join'],
      validAfter: VALID_AFTER,
      validBefore: VALID_BEFORE,
      criticalOptions: { 'source-address': '10.0.0.0/8' },
      extensions: { 'permit-pty': '', 'teleport-roles': '{"version":"v1","roles":["access"]}' },
      serial: 42n,
    });
    expect(line).toMatch(/^ecdsa-sha2-nistp256-cert-v01@openssh\.com AAAA[A-Za-z0-9+/=]+$/);
    expect(isSshCertificateLine(line)).toBe(true);
    const cert = parseSshCertificate(line);
    expect(cert).toMatchObject({
      type: 'ecdsa-sha2-nistp256-cert-v01@openssh.com',
      publicKey: sshPublicKeyFromPem(user.publicKeyPem),
      serial: 42n,
      certType: 'user',
      keyId: 'alice',
      principals: ['alice', 'root', '-teleport-internal-join'],
      validAfter: VALID_AFTER,
      validBefore: VALID_BEFORE,
      criticalOptions: { 'source-address': '10.0.0.0/8' },
      extensions: { 'permit-pty': '', 'teleport-roles': '{"version":"v1","roles":["access"]}' },
      signatureKey: sshPublicKeyFromPem(ca.publicKeyPem),
      signatureAlgorithm: 'ecdsa-sha2-nistp256',
      signatureValid: true,
    });
  });

  it('detects a tampered certificate', () => {
    const line = createSshUserCertificate({
      caKeyPem: ca.privateKeyPem,
      publicKeySsh: sshPublicKeyFromPem(user.publicKeyPem),
      keyId: 'alice',
      principals: ['alice'],
      validAfter: VALID_AFTER,
      validBefore: VALID_BEFORE,
    });
    const blob = Buffer.from(line.split(' ')[1], 'base64');
    // Flip a byte inside the key ID ("alice" → "blice").
    const at = blob.indexOf(Buffer.from('alice'));
    blob[at] = 'b'.charCodeAt(0);
    const tampered = parseSshCertificate(`${line.split(' ')[0]} ${blob.toString('base64')}`);
    expect(tampered.keyId).toBe('blice');
    expect(tampered.signatureValid).toBe(false);
  });

  it('defaults to the ssh-keygen extensions and certifies RSA keys with an RSA CA', async () => {
    const rsaCa = await rsaKey(0);
    const rsaUser = await rsaKey(1);
    const line = createSshUserCertificate({
      caKeyPem: rsaCa.privateKeyPem,
      publicKeySsh: sshPublicKeyFromPem(rsaUser.publicKeyPem),
      keyId: 'bob',
      principals: ['bob'],
      validAfter: VALID_AFTER,
      validBefore: VALID_BEFORE,
    });
    expect(line.startsWith('ssh-rsa-cert-v01@openssh.com ')).toBe(true);
    const cert = parseSshCertificate(line);
    expect(cert.extensions).toEqual(DEFAULT_SSH_EXTENSIONS);
    expect(cert.criticalOptions).toEqual({});
    expect(cert.signatureAlgorithm).toBe('rsa-sha2-512');
    expect(cert.signatureValid).toBe(true);
    expect(cert.publicKey).toBe(sshPublicKeyFromPem(rsaUser.publicKeyPem));
  });

  it('formats @cert-authority known_hosts lines as Teleport does', () => {
    const line = sshCaKnownHostsLine(ca.publicKeyPem, 'example.com');
    expect(line).toBe(
      `@cert-authority example.com,*.example.com ${sshPublicKeyFromPem(ca.publicKeyPem)} type=host`,
    );
  });

  it.skipIf(!hasSshKeygen())('is accepted by ssh-keygen -L (which also checks the signature)', async () => {
    const line = createSshUserCertificate({
      caKeyPem: ca.privateKeyPem,
      publicKeySsh: sshPublicKeyFromPem(user.publicKeyPem),
      keyId: 'alice',
      principals: ['alice', 'root'],
      validAfter: VALID_AFTER,
      validBefore: VALID_BEFORE,
      criticalOptions: { 'force-command': '/bin/true' },
    });
    const certFile = join(tmp.dir, 'alice-cert.pub');
    const caFile = join(tmp.dir, 'ca.pub');
    await writeFile(certFile, `${line}\n`);
    await writeFile(caFile, `${sshPublicKeyFromPem(ca.publicKeyPem)}\n`);
    const out = execFileSync('ssh-keygen', ['-L', '-f', certFile], { encoding: 'utf8' });
    const caFingerprint = execFileSync('ssh-keygen', ['-l', '-f', caFile], { encoding: 'utf8' }).split(
      ' ',
    )[1];
    expect(out).toContain('Type: ecdsa-sha2-nistp256-cert-v01@openssh.com user certificate');
    expect(out).toContain('Key ID: "alice"');
    expect(out).toContain(`Signing CA: ECDSA ${caFingerprint}`);
    expect(out).toMatch(/Principals: \n\s+alice\n\s+root\n/);
    expect(out).toMatch(/force-command \/bin\/true/);
    expect(out).toMatch(/permit-pty/);

    const blob = Buffer.from(line.split(' ')[1], 'base64');
    blob[blob.indexOf(Buffer.from('alice'))] = 'b'.charCodeAt(0);
    const tamperedFile = join(tmp.dir, 'tampered-cert.pub');
    await writeFile(tamperedFile, `${line.split(' ')[0]} ${blob.toString('base64')}\n`);
    expect(() => execFileSync('ssh-keygen', ['-L', '-f', tamperedFile], { stdio: 'pipe' })).toThrow(
      /incorrect signature/,
    );
  });
});
