import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatIdentityFile,
  parseIdentityFile,
  readIdentityFile,
  writeIdentityFileCredentials,
} from '../../../src/identity/identity-file.js';
import {
  createSshUserCertificate,
  sshCaKnownHostsLine,
  sshPublicKeyFromPem,
} from '../../../src/identity/ssh.js';
import { createCertificateAuthority } from '../../../src/identity/x509.js';
import { ALICE, caught, NOW, tempDir, type UserMaterial, userMaterial } from './fixtures.js';

describe('identity file', () => {
  let m: UserMaterial;
  let hostCaPem: string;
  let sshCert: string;
  let sshCaLine: string;
  let tmp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    m = await userMaterial();
    hostCaPem = (await createCertificateAuthority({ clusterName: 'example.com', kind: 'host', now: NOW }))
      .certPem;
    sshCert = createSshUserCertificate({
      caKeyPem: m.ca.keyPem,
      publicKeySsh: sshPublicKeyFromPem(m.publicKeyPem),
      keyId: 'alice',
      principals: ['alice'],
      validAfter: NOW,
      validBefore: new Date(NOW.getTime() + 3600_000),
    });
    sshCaLine = sshCaKnownHostsLine(m.ca.certPem, 'example.com');
    tmp = await tempDir();
  });
  afterAll(() => tmp.cleanup());

  it("formats items in Teleport's order, each newline-terminated", () => {
    const text = formatIdentityFile({
      keyPem: m.keyPem.trimEnd(),
      sshCert,
      certPem: m.certPem,
      sshCaLines: [sshCaLine],
      caPems: [m.ca.certPem, hostCaPem],
    });
    expect(text).toBe(`${m.keyPem}${sshCert}\n${m.certPem}${sshCaLine}\n${m.ca.certPem}${hostCaPem}`);
  });

  it('round-trips through format and parse', () => {
    const text = formatIdentityFile({
      keyPem: m.keyPem,
      sshCert,
      certPem: m.certPem,
      sshCaLines: [sshCaLine],
      caPems: [m.ca.certPem, hostCaPem],
    });
    expect(parseIdentityFile(text, '/id.pem')).toEqual({
      keyPem: m.keyPem,
      certPem: m.certPem,
      caPems: [m.ca.certPem, hostCaPem],
      sshCert,
      sshCaLines: [sshCaLine],
      source: { kind: 'identity-file', path: '/id.pem' },
    });
  });

  it('tolerates indentation, CRLF, garbage lines and a missing SSH certificate', () => {
    const indent = (pem: string) =>
      pem
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\r\n');
    const text = [
      'some comment someone added',
      indent(m.keyPem),
      '',
      indent(m.certPem),
      '# trailing junk',
      indent(m.ca.certPem),
      'ssh-ed25519 AAAAC3Nza not-a-cert',
    ].join('\r\n');
    const creds = parseIdentityFile(text, '/id.pem');
    expect(creds.keyPem).toBe(m.keyPem);
    expect(creds.certPem).toBe(m.certPem);
    expect(creds.caPems).toEqual([m.ca.certPem]);
    expect(creds).not.toHaveProperty('sshCert');
    expect(creds).not.toHaveProperty('sshCaLines');
  });

  it('rejects files without the parts it needs, with one-line messages', async () => {
    const other = await userMaterial();
    const cases: [string, string][] = [
      ['', 'no private key found'],
      [`${m.certPem}${m.ca.certPem}`, 'no private key found'],
      [`${m.keyPem}`, 'no TLS certificate found'],
      [`${m.keyPem}${m.keyPem}`, 'no TLS certificate found'],
      [`${m.keyPem}${m.certPem}`, 'no TLS CA certificates found'],
      [`${other.keyPem}${m.certPem}${m.ca.certPem}`, 'private key does not match the TLS certificate'],
      [
        `-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n${m.certPem}${m.ca.certPem}`,
        'private key is corrupt or of an unsupported type',
      ],
      [
        `${m.keyPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n${m.ca.certPem}`,
        'TLS certificate is corrupt',
      ],
      [
        `${m.keyPem}${m.certPem}${m.ca.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`,
        'TLS CA certificate 2 is corrupt',
      ],
    ];
    for (const [text, problem] of cases) {
      expect(await caught(() => parseIdentityFile(text, '/x/y.pem'))).toEqual({
        kind: 'permission',
        message: `identity file "/x/y.pem": ${problem}`,
      });
    }
  });

  it('reads from disk and explains a missing or unreadable file', async () => {
    const path = join(tmp.dir, 'alice.pem');
    await writeFile(
      path,
      formatIdentityFile({ keyPem: m.keyPem, certPem: m.certPem, caPems: [m.ca.certPem] }),
    );
    expect((await readIdentityFile(path)).certPem).toBe(m.certPem);

    const missing = join(tmp.dir, 'nope.pem');
    expect(await caught(() => readIdentityFile(missing))).toEqual({
      kind: 'permission',
      message: `cannot read identity file "${missing}": no such file (use -i/--identity with a file from 'tctl auth sign --format=file')`,
    });
    const dir = join(tmp.dir, 'a-dir');
    await mkdir(dir);
    expect((await caught(() => readIdentityFile(dir))).message).toBe(
      `cannot read identity file "${dir}": is a directory`,
    );
    if (process.getuid?.() !== 0) {
      await chmod(path, 0o000);
      expect((await caught(() => readIdentityFile(path))).message).toBe(
        `cannot read identity file "${path}": permission denied`,
      );
    }
  });

  it('rewrites the file atomically with mode 0600, keeping SSH lines', async () => {
    const path = join(tmp.dir, 'rewrite.pem');
    await writeFile(
      path,
      formatIdentityFile({
        keyPem: m.keyPem,
        sshCert,
        certPem: m.certPem,
        sshCaLines: [sshCaLine],
        caPems: [m.ca.certPem],
      }),
      { mode: 0o644 },
    );
    const creds = await readIdentityFile(path);
    const reissued = await userMaterial('ecdsa-p256', { ...ALICE, activeRequests: ['r1'] }, m.ca);
    await writeIdentityFileCredentials(path, {
      ...creds,
      certPem: reissued.certPem,
      keyPem: reissued.keyPem,
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = await readFile(path, 'utf8');
    expect(text).toBe(
      formatIdentityFile({
        keyPem: reissued.keyPem,
        sshCert,
        certPem: reissued.certPem,
        sshCaLines: [sshCaLine],
        caPems: [m.ca.certPem],
      }),
    );
  });

  it('accepts RSA PKCS#1 keys', async () => {
    const rsa = await userMaterial('rsa-2048');
    const text = formatIdentityFile({ keyPem: rsa.keyPem, certPem: rsa.certPem, caPems: [rsa.ca.certPem] });
    expect(parseIdentityFile(text, '/rsa.pem').keyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
  });
});
