/**
 * The bridge's signing secret and the private files it reads.
 *
 * The secret is, in order: the file named by `signing_secret_file`, the inline
 * `callback_secret`, or one generated on first start beside the state file and kept there for
 * later starts (the teleport-webhooks TOML has no signing key, and an unsigned POST is not an
 * option). A private file (secret, TLS or client key) that group or others may use is refused,
 * as ssh refuses a private key file with any of the 077 bits set (ssh: authfile.c,
 * sshkey_perm_ok).
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createFileAtomic, describeFsError, readTextCapped } from '../identity/files.js';
import { UsageError } from '../model/errors.js';
import type { WebhookConfig } from './config.js';

/** The generated secret's name, in the state file's directory. */
export const GENERATED_SECRET_NAME = 'access-webhook-signing.key';

const MAX_SECRET_BYTES = 64 * 1024;

export interface SigningSecret {
  key: Buffer;
  /** Where it came from: `signing_secret_file`, `callback_secret`, or generated (now or before). */
  source: 'file' | 'config' | 'generated' | 'kept';
  /** The file holding it (absolute), unless it came from `callback_secret`. */
  path?: string;
}

/** Refuses a file that is not a regular file or that group or others may use; names the fix. */
export async function checkPrivateFile(path: string, what: string): Promise<void> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${describeFsError(err)}`);
  }
  if (!st.isFile()) throw new UsageError(`${what} ${path} is not a regular file`);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new UsageError(
      `${what} ${path} is open to group or others (mode ${mode.toString(8).padStart(4, '0')})`,
      `run: chmod 600 ${path}`,
    );
  }
}

/** Reads a private text file (checked as above), trimmed. */
export async function readPrivateText(path: string, what: string): Promise<string> {
  await checkPrivateFile(path, what);
  try {
    return (await readTextCapped(path, MAX_SECRET_BYTES)).trim();
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${describeFsError(err)}`);
  }
}

/** Where the generated secret lives for this configuration. */
export function generatedSecretPath(config: WebhookConfig): string {
  return resolve(join(dirname(config.webhook.stateFile), GENERATED_SECRET_NAME));
}

/** The signing secret for this configuration, generating and keeping one when none is configured. */
export async function loadSigningSecret(config: WebhookConfig): Promise<SigningSecret> {
  const { signingSecretFile, callbackSecret } = config.webhook;
  if (signingSecretFile) {
    const text = await readPrivateText(signingSecretFile, 'signing secret');
    if (text === '') throw new UsageError(`the signing secret ${signingSecretFile} is empty`);
    return { key: Buffer.from(text, 'utf8'), source: 'file', path: resolve(signingSecretFile) };
  }
  if (callbackSecret) return { key: Buffer.from(callbackSecret, 'utf8'), source: 'config' };
  const path = generatedSecretPath(config);
  const created = await createFileAtomic(path, `${randomBytes(32).toString('hex')}\n`, 0o600);
  const text = await readPrivateText(path, 'signing secret');
  if (text === '')
    throw new UsageError(`the signing secret ${path} is empty`, `remove it to generate a new one`);
  return { key: Buffer.from(text, 'utf8'), source: created ? 'generated' : 'kept', path };
}

/** The start-up line that says where the secret is and how a receiver checks a POST. */
export function describeSigningSecret(secret: SigningSecret): string {
  const recipe =
    'receivers verify X-Access-Signature "t=<unix seconds>,v1=<hex>": v1 is HMAC-SHA256 keyed with ' +
    'the file\'s text (without its final newline) over "<t>.<raw body>"';
  switch (secret.source) {
    case 'generated':
      return `webhook: no signing secret configured; generated one in ${secret.path} (mode 0600, kept across restarts; signing_secret_file overrides it); ${recipe}`;
    case 'kept':
      return `webhook: signing with the secret generated earlier in ${secret.path}; ${recipe}`;
    case 'file':
      return `webhook: signing with the secret in ${secret.path}`;
    default:
      return 'webhook: signing with callback_secret';
  }
}
