import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatIdentityFile } from '../../../src/identity/identity-file.js';
import { generateKey } from '../../../src/identity/keys.js';
import { createCertificateAuthority, issueCertificate } from '../../../src/identity/x509.js';

/**
 * Writes a valid identity file for alice (a fresh CA, valid for an hour from now) into
 * `dir` and returns its path. Enough for the CLI to load credentials; no server trusts it.
 */
export async function writeIdentity(dir: string, username = 'alice'): Promise<string> {
  const now = new Date();
  const ca = await createCertificateAuthority({ clusterName: 'local', kind: 'user', now });
  const key = await generateKey('ecdsa-p256');
  const certPem = await issueCertificate({
    ca,
    publicKeyPem: key.publicKeyPem,
    identity: { username, roles: ['requester'], traits: {}, activeRequests: [], allowedResourceIds: [] },
    now,
    notAfter: new Date(now.getTime() + 3600_000),
  });
  const path = join(dir, `${username}.pem`);
  await writeFile(path, formatIdentityFile({ keyPem: key.privateKeyPem, certPem, caPems: [ca.certPem] }), {
    mode: 0o600,
  });
  return path;
}
