import { AccessError, UsageError } from '../model/errors.js';
import { writeIdentityFileCredentials } from './identity-file.js';
import { keyPairProblem } from './pem.js';
import type { Credentials } from './types.js';

/**
 * Saves a re-issued TLS certificate (and its key, when it changed) where `creds` came
 * from: the identity file is rewritten, the tsh profile's certificate replaced. A TLS
 * trio is read-only (usage error). Returns the credentials now in effect.
 */
export async function saveReissuedCertificate(
  creds: Credentials,
  certPem: string,
  keyPem: string = creds.keyPem,
): Promise<Credentials> {
  // Checked first so a bad response can never replace working credentials.
  const problem = keyPairProblem(keyPem, certPem);
  if (problem !== undefined) {
    const what = problem === 'mismatch' ? 'does not match the private key' : 'is not valid';
    throw new AccessError('failure', `re-issued certificate ${what}; credentials left unchanged`);
  }
  const keyChanged = keyPem !== creds.keyPem;
  const next: Credentials = { ...creds, certPem, keyPem };
  // An identity file holds one key: an SSH certificate for the old key would no longer match.
  if (keyChanged) delete next.sshCert;
  const source = creds.source;
  switch (source.kind) {
    case 'identity-file':
      await writeIdentityFileCredentials(source.path, next);
      return next;
    case 'tsh-profile': {
      // The profile writer pulls in yaml; only a profile needs it.
      const { writeTshProfileCertificate } = await import('./profile.js');
      await writeTshProfileCertificate(source, certPem, {
        ...(keyChanged ? { keyPem } : {}),
        ...(creds.sshCert !== undefined ? { sshCert: creds.sshCert } : {}),
      });
      return next;
    }
    case 'tls-trio':
      throw new UsageError('credentials from --cert/--key/--ca are read-only; the certificate was not saved');
  }
}
