import { type KeyObject, X509Certificate } from 'node:crypto';
import { AccessError } from '../model/errors.js';
import { describeFsError, readTextCapped } from './files.js';
import { parsePrivateKey } from './keys.js';

/** One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, …) and its text, newline-terminated. */
export interface PemBlock {
  label: string;
  text: string;
}

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----$/;

/**
 * Collects PEM blocks from text, line by line (lines trimmed), and hands every line that
 * is outside a block to `other`. An unterminated block is dropped.
 */
export function scanPem(text: string, other?: (line: string) => void): PemBlock[] {
  const blocks: PemBlock[] = [];
  let current: { label: string; lines: string[] } | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (current) {
      current.lines.push(line);
      if (line === `-----END ${current.label}-----`) {
        blocks.push({ label: current.label, text: `${current.lines.join('\n')}\n` });
        current = undefined;
      }
      continue;
    }
    const begin = BEGIN.exec(line);
    if (begin) {
      current = { label: begin[1], lines: [line] };
    } else if (line !== '') {
      other?.(line);
    }
  }
  return blocks;
}

/** The `CERTIFICATE` blocks of a PEM bundle, each newline-terminated. */
export function certificateBlocks(text: string): string[] {
  return scanPem(text)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => b.text);
}

/** Ensures PEM text ends with exactly one newline, as Teleport writes each item. */
export function withNewline(text: string): string {
  return `${text.replace(/\s+$/, '')}\n`;
}

/**
 * Reads a credential file, turning a file-system failure into a one-line permission
 * error: `cannot read <what> "<path>": <reason>` plus `suffix` when given.
 */
export async function readCredentialFile(what: string, path: string, suffix = ''): Promise<string> {
  try {
    return await readTextCapped(path);
  } catch (err) {
    const tail = suffix && (err as NodeJS.ErrnoException).code === 'ENOENT' ? ` ${suffix}` : '';
    throw new AccessError(
      'permission',
      `cannot read ${what} "${path}": ${describeFsError(err)}${tail}`,
      undefined,
      {
        cause: err,
      },
    );
  }
}

/** What is wrong with a key/certificate pair, if anything. */
export type PairProblem = 'bad-key' | 'bad-cert' | 'mismatch';

/** Checks that `keyPem` parses, `certPem` parses, and the key is the certificate's key. */
export function keyPairProblem(keyPem: string, certPem: string): PairProblem | undefined {
  let key: KeyObject;
  try {
    key = parsePrivateKey(keyPem);
  } catch {
    return 'bad-key';
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return 'bad-cert';
  }
  // OpenSSL's X509_check_private_key: the certificate's public key is the key's; one call,
  // where exporting both public keys to compare them cost a few milliseconds at start-up.
  return cert.checkPrivateKey(key) ? undefined : 'mismatch';
}

/** True when `pem` is one parseable X.509 certificate. */
export function isCertificate(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

/**
 * The issuer's common name of a certificate. Teleport names its CAs after the cluster, so
 * for a user certificate this is the root cluster: the one that issued it.
 */
export function issuerCommonName(certPem: string): string | undefined {
  try {
    const line = new X509Certificate(certPem).issuer.split('\n').find((l) => l.startsWith('CN='));
    return line?.slice(3) || undefined;
  } catch {
    return undefined;
  }
}

/** PEM type of a private key that lives on a PIV hardware token (api/utils/keys: pivYubiKeyPrivateKeyType). */
export const PIV_KEY_LABEL = 'PIV YUBIKEY PRIVATE KEY';
