import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';

/** The key types Teleport issues for user and host TLS keys. */
export type KeyAlgorithm = 'ecdsa-p256' | 'rsa-2048';

/** A freshly generated key pair in PEM. The public half is PKIX (`PUBLIC KEY`). */
export interface GeneratedKey {
  privateKeyPem: string;
  publicKeyPem: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** PEM labels a private key may carry when we read it (the three Teleport and OpenSSL write). */
const PRIVATE_KEY_LABELS = ['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY'] as const;

/**
 * Generates a key pair written the way Teleport writes keys: ECDSA as PKCS#8
 * `PRIVATE KEY`, RSA as PKCS#1 `RSA PRIVATE KEY`.
 */
export async function generateKey(alg: KeyAlgorithm): Promise<GeneratedKey> {
  if (alg === 'ecdsa-p256') {
    const { privateKey, publicKey } = await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' });
    return {
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  }
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * Parses a private key PEM (`PRIVATE KEY`, `EC PRIVATE KEY` or `RSA PRIVATE KEY`).
 * Throws a plain Error naming the problem; callers add which file it came from.
 */
export function parsePrivateKey(pem: string): KeyObject {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (!label) throw new Error('not a PEM private key');
  if (!(PRIVATE_KEY_LABELS as readonly string[]).includes(label)) {
    throw new Error(`unsupported private key type "${label}"`);
  }
  // Encrypted legacy PEM would prompt for a passphrase; Teleport never writes one.
  if (/Proc-Type:\s*4,ENCRYPTED/.test(pem)) throw new Error('encrypted private keys are not supported');
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('private key PEM is corrupt');
  }
}

/** The PKIX `PUBLIC KEY` PEM of a private key PEM. */
export function publicKeyPemFromPrivate(privateKeyPem: string): string {
  return createPublicKey(parsePrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
}

/** The SubjectPublicKeyInfo DER of a public key PEM (PKIX or PKCS#1), or of a private key. */
export function spkiDer(key: string | KeyObject): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}

/** A WebCrypto signing key and the algorithm to sign certificates with it. */
export interface SigningKey {
  key: webcrypto.CryptoKey;
  algorithm: webcrypto.EcdsaParams | webcrypto.Algorithm;
}

/**
 * Imports a PEM private key into WebCrypto for signing X.509 certificates with SHA-256
 * (ECDSA P-256 or RSA PKCS#1 v1.5, the two CA key types Teleport uses).
 */
export async function importSigningKey(privateKeyPem: string): Promise<SigningKey> {
  const key = parsePrivateKey(privateKeyPem);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1') throw new Error(`unsupported CA key curve "${curve}"`);
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
    const imported = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
    return { key: imported, algorithm: { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams };
  }
  if (key.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const imported = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
    return { key: imported, algorithm };
  }
  throw new Error(`unsupported CA key type "${key.asymmetricKeyType}"`);
}
