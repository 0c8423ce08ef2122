import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GeneratedKey, generateKey, type KeyAlgorithm } from '../../../src/identity/keys.js';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IdentityFields,
  issueCertificate,
} from '../../../src/identity/x509.js';

export const NOW = new Date('2025-06-01T12:00:00Z');
export const HOUR = 3600 * 1000;

export const ALICE: IdentityFields = {
  username: 'alice',
  roles: ['access', 'requester'],
  traits: { logins: ['alice', 'root'] },
  activeRequests: [],
  allowedResourceIds: [],
};

const rsaKeys = new Map<number, Promise<GeneratedKey>>();

/**
 * The `n`th RSA-2048 key from generateKey, made once per test worker: a 2048-bit RSA key
 * takes about a quarter of a second of CPU, and the tests need an RSA key, not a fresh one.
 */
export function rsaKey(n = 0): Promise<GeneratedKey> {
  let key = rsaKeys.get(n);
  if (!key) {
    key = generateKey('rsa-2048');
    rsaKeys.set(n, key);
  }
  return key;
}

export interface UserMaterial {
  ca: CertificateAuthority;
  keyPem: string;
  publicKeyPem: string;
  certPem: string;
}

/** A CA plus a user key and certificate issued by it, valid for an hour from NOW. */
export async function userMaterial(
  alg: KeyAlgorithm = 'ecdsa-p256',
  identity: IdentityFields = ALICE,
  ca?: CertificateAuthority,
): Promise<UserMaterial> {
  const authority =
    ca ?? (await createCertificateAuthority({ clusterName: 'example.com', kind: 'user', now: NOW }));
  const key = alg === 'rsa-2048' ? await rsaKey() : await generateKey(alg);
  const certPem = await issueCertificate({
    ca: authority,
    publicKeyPem: key.publicKeyPem,
    identity,
    now: NOW,
    notAfter: new Date(NOW.getTime() + HOUR),
  });
  return { ca: authority, keyPem: key.privateKeyPem, publicKeyPem: key.publicKeyPem, certPem };
}

/** A new certificate for the same key and CA, as GenerateUserCerts returns on re-issue. */
export async function reissue(m: UserMaterial, identity: IdentityFields): Promise<string> {
  return issueCertificate({
    ca: m.ca,
    publicKeyPem: m.publicKeyPem,
    identity,
    now: NOW,
    notAfter: new Date(NOW.getTime() + HOUR),
  });
}

/** A fresh temp directory and its cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'access-identity-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Catches the AccessError a promise or function throws, for asserting kind and message. */
export async function caught(fn: () => unknown): Promise<{ kind: string; message: string }> {
  try {
    await fn();
  } catch (err) {
    const e = err as { kind?: string; message: string };
    return { kind: e.kind ?? 'none', message: e.message };
  }
  throw new Error('expected an error');
}
