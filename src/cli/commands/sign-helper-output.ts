/**
 * What `access sign-helper` writes and prints: the target files, the plugin configuration
 * that uses them, and the result.
 */
import { resolve } from 'node:path';
import type { SignHelperResult } from '../../model/schema.js';
import { type Format, printStructured } from '../../render/format.js';
import type { Context } from '../context.js';
import { note } from './shared.js';
import type { OutFormat } from './sign-helper.js';

/** The files one run writes. */
export type Targets =
  | { kind: 'tls'; crt: string; key: string; cas: string }
  | { kind: 'file'; identity: string };

/** The files written for `out`, as absolute paths (they go into a plugin's configuration). */
export function targetsFor(out: string, kind: OutFormat): Targets {
  const base = resolve(out);
  if (kind === 'file') return { kind, identity: base };
  return { kind, crt: `${base}.crt`, key: `${base}.key`, cas: `${base}.cas` };
}

export function targetList(t: Targets): string[] {
  return t.kind === 'file' ? [t.identity] : [t.crt, t.key, t.cas];
}

/** The `[teleport]` section of a teleport-plugins configuration that uses the written files. */
export function pluginConfig(address: string, t: Targets): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = ['[teleport]', `auth_server = ${q(address)}`];
  if (t.kind === 'file') lines.push(`identity = ${q(t.identity)}`);
  else lines.push(`client_key = ${q(t.key)}`, `client_crt = ${q(t.crt)}`, `root_cas = ${q(t.cas)}`);
  return `${lines.join('\n')}\n`;
}

/** `@cert-authority` lines from Certs.SSHCACerts (authorized_keys lines of the host CA). */
export function sshCaLines(sshCaCerts: string[], cluster: string): string[] {
  return sshCaCerts
    .flatMap((text) => text.split(/\r?\n/))
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) =>
      line.startsWith('@cert-authority') ? line : `@cert-authority ${cluster},*.${cluster} ${line} type=host`,
    );
}

/** What one run issued, ready to be written. */
export interface Issued {
  keyPem: string;
  certPem: string;
  /** '' when the server issued none. */
  sshCert: string;
  /** `@cert-authority` lines (identity file only). */
  sshCaLines: string[];
  caPems: string[];
}

/**
 * Writes the credentials, each file 0600, all or nothing; existing files only with
 * `overwrite` (checked again here, so a file that appeared since the preflight is kept).
 */
export async function writeCredentials(
  ctx: Context,
  t: Targets,
  issued: Issued,
  overwrite: boolean,
): Promise<void> {
  const { formatIdentityFile, writeFilesExclusive } = await import('../../identity/index.js');
  if (t.kind === 'file') {
    if (issued.sshCert === '')
      note(
        ctx,
        'warning: the server issued no SSH certificate; the identity file holds TLS credentials only',
      );
    const text = formatIdentityFile({
      keyPem: issued.keyPem,
      ...(issued.sshCert === '' ? {} : { sshCert: issued.sshCert }),
      certPem: issued.certPem,
      sshCaLines: issued.sshCaLines,
      caPems: issued.caPems,
    });
    await writeFilesExclusive([{ path: t.identity, data: text, mode: 0o600 }], { overwrite });
    return;
  }
  await writeFilesExclusive(
    [
      { path: t.crt, data: issued.certPem, mode: 0o600 },
      { path: t.key, data: issued.keyPem, mode: 0o600 },
      { path: t.cas, data: issued.caPems.join(''), mode: 0o600 },
    ],
    { overwrite },
  );
}

/**
 * Says where the credentials went (stderr) and prints the plugin configuration (text) or
 * the result document (JSON/YAML) on stdout.
 */
export async function reportWritten(
  ctx: Context,
  t: Targets,
  r: { user: string; expires: string; validFor: string; address: string },
): Promise<void> {
  const files = targetList(t);
  note(
    ctx,
    `The credentials for ${JSON.stringify(r.user)} have been written to ${files.join(', ')} (valid until ${r.expires}, ${r.validFor}).`,
  );
  if (ctx.format === 'text') {
    note(ctx, "Plugin configuration (the plugin's TOML file):");
    ctx.io.stdout.write(pluginConfig(r.address, t));
  } else {
    const result: SignHelperResult = { files, user: r.user, expires: r.expires };
    await printStructured(ctx.io, ctx.format as Exclude<Format, 'text'>, result);
  }
}
