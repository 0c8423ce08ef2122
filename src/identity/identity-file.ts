import { AccessError } from '../model/errors.js';
import { writeFileAtomic } from './files.js';
import { isCertificate, keyPairProblem, readCredentialFile, scanPem, withNewline } from './pem.js';
import { isSshCertificateLine } from './ssh.js';
import type { Credentials } from './types.js';

/** What goes into an identity file. */
export interface IdentityFileContents {
  keyPem: string;
  sshCert?: string;
  certPem: string;
  sshCaLines?: string[];
  caPems: string[];
}

const MISSING_HINT = "(use -i/--identity with a file from 'tctl auth sign --format=file')";

/**
 * Formats an identity file in Teleport's write order: private key, SSH certificate line,
 * TLS certificate, `@cert-authority` lines, TLS CA certificates; each item newline-terminated.
 */
export function formatIdentityFile(contents: IdentityFileContents): string {
  const items = [
    contents.keyPem,
    ...(contents.sshCert ? [contents.sshCert] : []),
    contents.certPem,
    ...(contents.sshCaLines ?? []),
    ...contents.caPems,
  ];
  return items.map(withNewline).join('');
}

/**
 * Parses an identity file the way Teleport reads one: trimmed lines; a line starting with
 * an SSH certificate type is the SSH certificate; `@cert-authority` lines are SSH CAs;
 * PEM blocks in order are the key, the TLS certificate, then TLS CAs; anything else is
 * ignored. The SSH certificate is optional here. `path` is only used in messages.
 */
export function parseIdentityFile(text: string, path: string): Credentials {
  const sshCaLines: string[] = [];
  let sshCert: string | undefined;
  const blocks = scanPem(text, (line) => {
    if (line.startsWith('@cert-authority')) sshCaLines.push(line);
    else if (sshCert === undefined && isSshCertificateLine(line)) sshCert = line;
  });
  const fail = (problem: string) => new AccessError('permission', `identity file "${path}": ${problem}`);
  const [key, cert, ...cas] = blocks;
  if (!key?.label.endsWith('PRIVATE KEY')) throw fail('no private key found');
  if (cert?.label !== 'CERTIFICATE') throw fail('no TLS certificate found');
  const problem = keyPairProblem(key.text, cert.text);
  if (problem === 'bad-key') throw fail('private key is corrupt or of an unsupported type');
  if (problem === 'bad-cert') throw fail('TLS certificate is corrupt');
  if (problem === 'mismatch') throw fail('private key does not match the TLS certificate');
  if (cas.length === 0) throw fail('no TLS CA certificates found');
  cas.forEach((ca, i) => {
    if (ca.label !== 'CERTIFICATE' || !isCertificate(ca.text))
      throw fail(`TLS CA certificate ${i + 1} is corrupt`);
  });
  const creds: Credentials = {
    certPem: cert.text,
    keyPem: key.text,
    caPems: cas.map((c) => c.text),
    source: { kind: 'identity-file', path },
  };
  if (sshCert !== undefined) creds.sshCert = sshCert;
  if (sshCaLines.length > 0) creds.sshCaLines = sshCaLines;
  return creds;
}

/** Reads and parses an identity file (`tctl auth sign --format=file`, `tsh login --out`). */
export async function readIdentityFile(path: string): Promise<Credentials> {
  return parseIdentityFile(await readCredentialFile('identity file', path, MISSING_HINT), path);
}

/**
 * Rewrites an identity file atomically (mode 0600) with `creds`, keeping its SSH
 * certificate and `@cert-authority` lines.
 */
export async function writeIdentityFileCredentials(path: string, creds: Credentials): Promise<void> {
  await writeFileAtomic(path, formatIdentityFile(creds), 0o600);
}
