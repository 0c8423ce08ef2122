import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTlsTrio } from '../../../src/identity/trio.js';
import { createCertificateAuthority } from '../../../src/identity/x509.js';
import { caught, NOW, tempDir, type UserMaterial, userMaterial } from './fixtures.js';

describe('TLS trio', () => {
  let m: UserMaterial;
  let otherCa: string;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let crt: string;
  let key: string;
  let cas: string;

  beforeAll(async () => {
    m = await userMaterial();
    otherCa = (await createCertificateAuthority({ clusterName: 'leaf', kind: 'host', now: NOW })).certPem;
    tmp = await tempDir();
    crt = join(tmp.dir, 'auth.crt');
    key = join(tmp.dir, 'auth.key');
    cas = join(tmp.dir, 'auth.cas');
    await writeFile(crt, m.certPem);
    await writeFile(key, m.keyPem);
    await writeFile(cas, `${m.ca.certPem}${otherCa}`);
  });
  afterAll(() => tmp.cleanup());

  it('reads cert, key and every CA in the bundle', async () => {
    expect(await readTlsTrio(crt, key, cas)).toEqual({
      certPem: m.certPem,
      keyPem: m.keyPem,
      caPems: [m.ca.certPem, otherCa],
      source: { kind: 'tls-trio', certPath: crt, keyPath: key, caPath: cas },
    });
  });

  it('accepts a combined key+cert file (mongodb format) for both', async () => {
    const combined = join(tmp.dir, 'combined.crt');
    await writeFile(combined, `${m.keyPem}${m.certPem}`);
    const creds = await readTlsTrio(combined, combined, cas);
    expect(creds.certPem).toBe(m.certPem);
    expect(creds.keyPem).toBe(m.keyPem);
  });

  it('explains missing and malformed files in one line', async () => {
    const missing = join(tmp.dir, 'missing.crt');
    expect(await caught(() => readTlsTrio(missing, key, cas))).toEqual({
      kind: 'permission',
      message: `cannot read TLS certificate "${missing}": no such file (use --cert/--key/--ca with files from 'tctl auth sign --format=tls')`,
    });
    expect((await caught(() => readTlsTrio(crt, missing, cas))).message).toMatch(
      /^cannot read TLS key ".*missing\.crt": no such file/,
    );
    expect((await caught(() => readTlsTrio(crt, key, missing))).message).toMatch(
      /^cannot read TLS CA file ".*missing\.crt": no such file/,
    );

    const other = await userMaterial('ecdsa-p256', undefined, m.ca);
    const otherKey = join(tmp.dir, 'other.key');
    await writeFile(otherKey, other.keyPem);
    expect(await caught(() => readTlsTrio(crt, otherKey, cas))).toEqual({
      kind: 'permission',
      message: `TLS key "${otherKey}" does not match certificate "${crt}"`,
    });

    const empty = join(tmp.dir, 'empty');
    await writeFile(empty, 'nothing here\n');
    expect((await caught(() => readTlsTrio(empty, key, cas))).message).toBe(
      `TLS certificate "${empty}" holds no PEM certificate`,
    );
    expect((await caught(() => readTlsTrio(crt, empty, cas))).message).toBe(
      `TLS key "${empty}" holds no PEM private key`,
    );
    expect((await caught(() => readTlsTrio(crt, key, empty))).message).toBe(
      `TLS CA file "${empty}" holds no PEM certificates`,
    );

    const badCa = join(tmp.dir, 'bad.cas');
    await writeFile(badCa, `${m.ca.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`);
    expect((await caught(() => readTlsTrio(crt, key, badCa))).message).toBe(
      `TLS CA file "${badCa}": certificate 2 is corrupt`,
    );
  });
});
