import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AccessError } from '../model/errors.js';
import { describeFsError, NotRegularFileError, readTextCapped, writeFileAtomic } from './files.js';
import {
  certificateBlocks,
  isCertificate,
  issuerCommonName,
  keyPairProblem,
  PIV_KEY_LABEL,
  readCredentialFile,
  scanPem,
} from './pem.js';
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
    sshDir: join(dir, `${source.user}-ssh`),
    // keypaths.SSHCertPath: one SSH certificate per cluster, the root's from a login.
    sshCert: join(dir, `${source.user}-ssh`, `${source.rootCluster || source.cluster}-cert.pub`),
    sshPublicKey: join(dir, `${source.user}.pub`),
    // keypaths: per-service certificates tsh caches (databases, apps, Kubernetes clusters).
    serviceCaches: ['db', 'app', 'kube'].map((kind) => join(dir, `${source.user}-${kind}`)),
    knownHosts: join(source.home, 'known_hosts'),
  };
}

/**
 * The text of an optional tsh file, or undefined when it cannot be read. A path that is not a
 * regular file (a FIFO) is refused, not skipped: it was put there, and reading it would block.
 */
async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readTextCapped(path);
  } catch (err) {
    if (err instanceof NotRegularFileError)
      throw new AccessError('permission', `cannot read "${path}": ${describeFsError(err)}`);
    return undefined;
  }
}

/** Which profile to read, as tsh picks it. */
export interface ProfileSelection {
  /** A profile by name (tsh names profiles after their proxy host). */
  profile?: string;
  /** The proxy named by --proxy/TELEPORT_PROXY: its host names the profile. */
  proxy?: string;
  /** --cluster/TELEPORT_CLUSTER: the cluster selected instead of the profile's. */
  cluster?: string;
}

async function readProfileSource(home: string, select: ProfileSelection): Promise<TshProfileSource> {
  const notFound = (what: string) =>
    new AccessError('permission', `${what} not found in "${home}": ${LOGIN_HINT}`);
  // lib/client/api.go (tsh): a proxy given on the command line selects the profile named after
  // its host; otherwise the current profile.
  let name = select.profile ?? (select.proxy ? addressHost(select.proxy) : undefined);
  if (select.proxy && name && !(await isFile(join(home, `${name}.yaml`)))) {
    throw new AccessError(
      'permission',
      `no tsh profile for proxy "${name}" in "${home}"`,
      `run 'tsh login --proxy=${name}', or pass --identity`,
    );
  }
  if (!name) {
    name = (await readOptional(join(home, 'current-profile')))?.trim();
    if (!name) throw notFound('tsh profile');
  }
  const file = join(home, `${name}.yaml`);
  let text: string;
  try {
    text = await readTextCapped(file);
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
    cluster: select.cluster || str('cluster') || name,
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
export async function readTshProfile(home: string, select: ProfileSelection = {}): Promise<Credentials> {
  const source = await readProfileSource(home, select);
  let paths = keyPaths(source);
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
  if (key.label === PIV_KEY_LABEL) {
    throw new AccessError(
      'permission',
      `${profile}: its key lives on a hardware token (PIV), which access does not support yet`,
      'use an identity file instead: tsh login --out=FILE, then access -i FILE',
    );
  }
  const problem = keyPairProblem(key.text, cert.text);
  if (problem === 'bad-key') throw denied(`TLS key "${keyPath}" is corrupt or of an unsupported type`);
  if (problem === 'bad-cert') throw denied(`TLS certificate "${certPath}" is corrupt`);
  if (problem === 'mismatch') throw denied(`TLS key "${keyPath}" does not match certificate "${certPath}"`);
  source.rootCluster = issuerCommonName(cert.text) ?? source.cluster;
  paths = keyPaths(source);
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

/** The SSH public key (authorized_keys line) of the profile, to have an SSH certificate issued for. */
export async function readProfileSshPublicKey(source: TshProfileSource): Promise<string | undefined> {
  const line = (await readOptional(keyPaths(source).sshPublicKey))?.trim();
  return line ? line : undefined;
}

/**
 * Writes re-issued certificates into the profile as tsh's ReissueUserCerts with CertCacheDrop
 * does (lib/client/client_store.go, keystore.go): under the lock tsh takes on the TLS key
 * file (FSKeyStore.writeTLSCredential), the TLS certificate goes to the file it was read
 * from and the SSH certificate to `<user>-ssh/<root>-cert.pub`; every cached per-service
 * certificate (`-db`, `-app`, `-kube`) and the SSH certificates of other clusters are
 * deleted, so none still carries a dropped request. Files are 0600, via temp+rename.
 */
export async function writeTshProfileCertificate(
  source: TshProfileSource,
  certPem: string,
  opts: { keyPem?: string; sshCert?: string } = {},
): Promise<void> {
  const paths = keyPaths(source);
  const certPath = (await firstExisting(paths.certCandidates)) ?? paths.certCandidates[0];
  const keyPath = (await firstExisting(paths.keyCandidates)) ?? paths.keyCandidates[0];
  await withFileLock(keyPath, async () => {
    if (opts.keyPem !== undefined) await writeFileAtomic(keyPath, opts.keyPem, 0o600);
    await writeFileAtomic(certPath, certPem, 0o600);
    for (const dir of paths.serviceCaches) await rm(dir, { recursive: true, force: true });
    let others: string[] = [];
    try {
      others = await readdir(paths.sshDir);
    } catch {
      // No SSH certificates yet.
    }
    for (const name of others) {
      const path = join(paths.sshDir, name);
      if (path !== paths.sshCert) await rm(path, { recursive: true, force: true });
    }
    if (opts.sshCert !== undefined) await writeFileAtomic(paths.sshCert, `${opts.sshCert.trim()}\n`, 0o600);
    else await rm(paths.sshCert, { force: true });
  });
}

/** How long to wait for tsh to release its lock on the key file. */
const LOCK_WAIT_SECONDS = 5;

/**
 * Runs `fn` holding an exclusive flock(2) on `path`, the lock tsh's key store takes
 * (lib/utils: FSTryWriteLock). Node has no flock of its own, so util-linux's `flock` holds
 * it; where that tool is missing, `fn` runs unlocked.
 */
async function withFileLock(path: string, fn: () => Promise<void>): Promise<void> {
  const { spawn } = await import('node:child_process');
  const holder = spawn(
    'flock',
    ['-x', '-w', String(LOCK_WAIT_SECONDS), path, '-c', 'echo locked; exec cat >/dev/null'],
    {
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  );
  const locked = await new Promise<'locked' | 'missing' | 'busy'>((resolve) => {
    holder.once('error', () => resolve('missing'));
    holder.stdout.once('data', () => resolve('locked'));
    holder.once('exit', () => resolve('busy'));
  });
  if (locked === 'busy') {
    throw new AccessError(
      'failure',
      `the tsh profile key "${path}" stayed locked by another tsh process for ${LOCK_WAIT_SECONDS}s; nothing was written`,
      'try again once tsh has finished',
    );
  }
  try {
    await fn();
  } finally {
    if (locked === 'locked') {
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.stdin.end();
      await exited;
    }
  }
}
