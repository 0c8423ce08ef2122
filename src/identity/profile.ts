import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AccessError } from '../model/errors.js';
import { describeFsError, writeFileAtomic } from './files.js';
import { certificateBlocks, isCertificate, keyPairProblem, readCredentialFile, scanPem } from './pem.js';
import { isSshCertificateLine } from './ssh.js';
import type { CredentialSource, Credentials } from './types.js';

/** The tsh-profile arm of {@link CredentialSource}. */
export type TshProfileSource = Extract<CredentialSource, { kind: 'tsh-profile' }>;

const LOGIN_HINT = "run 'tsh login' or pass --identity";

/** The host part of an address (`proxy.example.com:443` → `proxy.example.com`, `[::1]:3080` → `::1`). */
export function addressHost(addr: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(addr);
  if (bracketed) return bracketed[1];
  const parts = addr.split(':');
  return parts.length === 2 ? parts[0] : addr;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths) if (await isFile(p)) return p;
  return undefined;
}

/** Where the profile's files live (`keys/<proxyhost>/…`, tsh's keypaths layout). */
function keyPaths(source: TshProfileSource) {
  const dir = join(source.home, 'keys', source.proxyAddr ? addressHost(source.proxyAddr) : source.profile);
  return {
    dir,
    // v17+ names first: tsh itself reads only these once it has written them.
    certCandidates: [join(dir, `${source.user}.crt`), join(dir, `${source.user}-x509.pem`)],
    // Before v17 the TLS certificate shared the SSH private key.
    keyCandidates: [join(dir, `${source.user}.key`), join(dir, source.user)],
    casDir: join(dir, 'cas'),
    certsPem: join(dir, 'certs.pem'),
    sshCert: join(dir, `${source.user}-ssh`, `${source.cluster}-cert.pub`),
    knownHosts: join(source.home, 'known_hosts'),
  };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function readProfileSource(home: string, profileName?: string): Promise<TshProfileSource> {
  const notFound = (what: string) =>
    new AccessError('permission', `${what} not found in "${home}": ${LOGIN_HINT}`);
  let name = profileName;
  if (!name) {
    name = (await readOptional(join(home, 'current-profile')))?.trim();
    if (!name) throw notFound('tsh profile');
  }
  const file = join(home, `${name}.yaml`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`tsh profile "${name}"`);
    throw new AccessError('permission', `cannot read tsh profile "${file}": ${describeFsError(err)}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    throw new AccessError('permission', `tsh profile "${file}" is not valid YAML`);
  }
  const fields = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  const str = (key: string) => (typeof fields[key] === 'string' ? (fields[key] as string) : '');
  const user = str('user');
  if (!user) throw new AccessError('permission', `tsh profile "${file}" has no user: ${LOGIN_HINT}`);
  return {
    kind: 'tsh-profile',
    home,
    profile: name,
    user,
    proxyAddr: str('web_proxy_addr'),
    cluster: str('cluster') || name,
    tlsRoutingConnUpgradeRequired: fields.tls_routing_conn_upgrade_required === true || undefined,
  };
}

async function readCas(casDir: string, certsPem: string): Promise<string[]> {
  let names: string[] = [];
  try {
    names = (await readdir(casDir)).sort();
  } catch {
    // No cas/ directory: the legacy bundle is the fallback.
  }
  const cas: string[] = [];
  for (const n of names) {
    const path = join(casDir, n);
    if (await isFile(path)) cas.push(...certificateBlocks(await readCredentialFile('TLS CA file', path)));
  }
  if (cas.length > 0) return cas;
  const legacy = await readOptional(certsPem);
  return legacy ? certificateBlocks(legacy) : [];
}

/**
 * Loads the TLS credentials of a tsh profile under `home` (`~/.tsh` or `$TELEPORT_HOME`):
 * `profileName` or the contents of `current-profile`, then the v17+ `<user>.crt`/`.key`
 * (falling back to the legacy `-x509.pem` and shared SSH key), and the CAs in `cas/`
 * (else `certs.pem`). The SSH certificate and `@cert-authority` lines are included when present.
 */
export async function readTshProfile(home: string, profileName?: string): Promise<Credentials> {
  const source = await readProfileSource(home, profileName);
  const paths = keyPaths(source);
  const denied = (message: string) => new AccessError('permission', message);
  const profile = `tsh profile "${source.profile}"`;
  const certPath = await firstExisting(paths.certCandidates);
  if (!certPath) {
    throw denied(`${profile}: no TLS certificate ${source.user}.crt in "${paths.dir}": run 'tsh login'`);
  }
  const keyPath = await firstExisting(paths.keyCandidates);
  if (!keyPath) throw denied(`${profile}: no TLS key ${source.user}.key in "${paths.dir}": run 'tsh login'`);
  const cert = scanPem(await readCredentialFile('TLS certificate', certPath)).find(
    (b) => b.label === 'CERTIFICATE',
  );
  if (!cert) throw denied(`TLS certificate "${certPath}" holds no PEM certificate`);
  const key = scanPem(await readCredentialFile('TLS key', keyPath)).find((b) =>
    b.label.endsWith('PRIVATE KEY'),
  );
  if (!key) throw denied(`TLS key "${keyPath}" holds no PEM private key`);
  const problem = keyPairProblem(key.text, cert.text);
  if (problem === 'bad-key') throw denied(`TLS key "${keyPath}" is corrupt or of an unsupported type`);
  if (problem === 'bad-cert') throw denied(`TLS certificate "${certPath}" is corrupt`);
  if (problem === 'mismatch') throw denied(`TLS key "${keyPath}" does not match certificate "${certPath}"`);
  const caPems = await readCas(paths.casDir, paths.certsPem);
  if (caPems.length === 0) {
    throw denied(
      `${profile}: no TLS CA certificates in "${paths.casDir}" or "${paths.certsPem}": run 'tsh login'`,
    );
  }
  const corrupt = caPems.findIndex((ca) => !isCertificate(ca));
  if (corrupt >= 0) throw denied(`${profile}: TLS CA certificate ${corrupt + 1} is corrupt`);
  const creds: Credentials = { certPem: cert.text, keyPem: key.text, caPems, source };
  const sshCert = (await readOptional(paths.sshCert))?.trim();
  if (sshCert && isSshCertificateLine(sshCert)) creds.sshCert = sshCert;
  const knownHosts = await readOptional(paths.knownHosts);
  const sshCaLines = (knownHosts ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.startsWith('@cert-authority'));
  if (sshCaLines.length > 0) creds.sshCaLines = sshCaLines;
  return creds;
}

/**
 * Writes a re-issued TLS certificate back into the profile, atomically and mode 0600, to
 * the file it was read from (`<user>.crt`, else the legacy `<user>-x509.pem`). Pass
 * `keyPem` only when the key changed; it goes to the file the key was read from.
 */
export async function writeTshProfileCertificate(
  source: TshProfileSource,
  certPem: string,
  keyPem?: string,
): Promise<void> {
  const paths = keyPaths(source);
  const certPath = (await firstExisting(paths.certCandidates)) ?? paths.certCandidates[0];
  if (keyPem !== undefined) {
    const keyPath = (await firstExisting(paths.keyCandidates)) ?? paths.keyCandidates[0];
    await writeFileAtomic(keyPath, keyPem, 0o600);
  }
  await writeFileAtomic(certPath, certPem, 0o600);
}
