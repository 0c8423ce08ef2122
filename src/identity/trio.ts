import { AccessError } from '../model/errors.js';
import { isCertificate, keyPairProblem, readCredentialFile, scanPem } from './pem.js';
import type { Credentials } from './types.js';

const MISSING_HINT = "(use --cert/--key/--ca with files from 'tctl auth sign --format=tls')";

/**
 * Reads the three files of `tctl auth sign --format=tls` (`.crt`, `.key`, `.cas`). The
 * certificate and key are the first matching PEM blocks of their files, so a combined
 * cert+key file works for both; the CA file may hold several certificates.
 */
export async function readTlsTrio(certPath: string, keyPath: string, caPath: string): Promise<Credentials> {
  const [certText, keyText, caText] = await Promise.all([
    readCredentialFile('TLS certificate', certPath, MISSING_HINT),
    readCredentialFile('TLS key', keyPath, MISSING_HINT),
    readCredentialFile('TLS CA file', caPath, MISSING_HINT),
  ]);
  const denied = (message: string) => new AccessError('permission', message);
  const cert = scanPem(certText).find((b) => b.label === 'CERTIFICATE');
  if (!cert) throw denied(`TLS certificate "${certPath}" holds no PEM certificate`);
  const key = scanPem(keyText).find((b) => b.label.endsWith('PRIVATE KEY'));
  if (!key) throw denied(`TLS key "${keyPath}" holds no PEM private key`);
  const problem = keyPairProblem(key.text, cert.text);
  if (problem === 'bad-key') throw denied(`TLS key "${keyPath}" is corrupt or of an unsupported type`);
  if (problem === 'bad-cert') throw denied(`TLS certificate "${certPath}" is corrupt`);
  if (problem === 'mismatch') throw denied(`TLS key "${keyPath}" does not match certificate "${certPath}"`);
  const cas = scanPem(caText).filter((b) => b.label === 'CERTIFICATE');
  if (cas.length === 0) throw denied(`TLS CA file "${caPath}" holds no PEM certificates`);
  cas.forEach((ca, i) => {
    if (!isCertificate(ca.text)) throw denied(`TLS CA file "${caPath}": certificate ${i + 1} is corrupt`);
  });
  return {
    certPem: cert.text,
    keyPem: key.text,
    caPems: cas.map((c) => c.text),
    source: { kind: 'tls-trio', certPath, keyPath, caPath },
  };
}
