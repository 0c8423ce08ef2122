import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readTshProfile, writeTshProfileCertificate } from '../../../src/identity/profile.js';
import {
  createSshUserCertificate,
  sshCaKnownHostsLine,
  sshPublicKeyFromPem,
} from '../../../src/identity/ssh.js';
import type { Credentials } from '../../../src/identity/types.js';
import { createCertificateAuthority } from '../../../src/identity/x509.js';
import { ALICE, caught, NOW, reissue, tempDir, type UserMaterial, userMaterial } from './fixtures.js';

/**
 * Resolves once a second `flock` process waits on `path` (`-w`: the writer's, not the test's
 * holder); rejects after `timeoutMs`. Reads /proc, as the test already relies on util-linux.
 */
async function flockWaiting(path: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
      if (argv[0] === 'flock' && argv.includes('-w') && argv.includes(path)) return;
    }
    if (Date.now() > deadline) throw new Error(`no flock waiting on ${path} within ${timeoutMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const PROFILE_YAML = `web_proxy_addr: proxy.example.com:443
ssh_proxy_addr: proxy.example.com:3023
user: alice
cluster: example.com
tls_routing_enabled: true
dynamic_forward_ports: []
`;

describe('tsh profile', () => {
  let m: UserMaterial;
  let hostCa: string;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let home: string;
  let keys: string;

  beforeAll(async () => {
    m = await userMaterial();
    hostCa = (await createCertificateAuthority({ clusterName: 'example.com', kind: 'host', now: NOW }))
      .certPem;
  });
  beforeEach(async () => {
    tmp = await tempDir();
    home = join(tmp.dir, '.tsh');
    keys = join(home, 'keys', 'proxy.example.com');
    await mkdir(keys, { recursive: true });
    await writeFile(join(home, 'current-profile'), 'proxy.example.com\n');
    await writeFile(join(home, 'proxy.example.com.yaml'), PROFILE_YAML);
  });
  afterEach(() => tmp.cleanup());

  async function v17Layout() {
    await writeFile(join(keys, 'alice.crt'), m.certPem);
    await writeFile(join(keys, 'alice.key'), m.keyPem);
    await mkdir(join(keys, 'cas'));
    await writeFile(join(keys, 'cas', 'example.com.pem'), `${m.ca.certPem}${hostCa}`);
  }

  const source = {
    kind: 'tsh-profile' as const,
    profile: 'proxy.example.com',
    user: 'alice',
    proxyAddr: 'proxy.example.com:443',
    cluster: 'example.com',
    rootCluster: 'example.com',
  };

  it('reads the v17+ layout (<user>.crt, <user>.key, cas/)', async () => {
    await v17Layout();
    const leafCa = (await createCertificateAuthority({ clusterName: 'leaf', kind: 'user', now: NOW }))
      .certPem;
    await writeFile(join(keys, 'cas', 'leaf.pem'), leafCa);
    // A stale legacy bundle must not be used while cas/ exists.
    await writeFile(join(keys, 'certs.pem'), 'garbage');
    expect(await readTshProfile(home)).toEqual<Credentials>({
      certPem: m.certPem,
      keyPem: m.keyPem,
      caPems: [m.ca.certPem, hostCa, leafCa],
      source: { ...source, home },
    });
  });

  it('carries tls_routing_conn_upgrade_required (tsh found an L7 load balancer at login)', async () => {
    await v17Layout();
    await writeFile(
      join(home, 'proxy.example.com.yaml'),
      `${PROFILE_YAML}tls_routing_conn_upgrade_required: true\n`,
    );
    expect((await readTshProfile(home)).source).toEqual({
      ...source,
      home,
      tlsRoutingConnUpgradeRequired: true,
    });
  });

  it('reads the legacy layout (-x509.pem, shared SSH key, certs.pem) and SSH material', async () => {
    await writeFile(join(keys, 'alice-x509.pem'), m.certPem);
    await writeFile(join(keys, 'alice'), m.keyPem);
    await writeFile(join(keys, 'certs.pem'), m.ca.certPem);
    const sshCert = createSshUserCertificate({
      caKeyPem: m.ca.keyPem,
      publicKeySsh: sshPublicKeyFromPem(m.publicKeyPem),
      keyId: 'alice',
      principals: ['alice'],
      validAfter: NOW,
      validBefore: new Date(NOW.getTime() + 3600_000),
    });
    await mkdir(join(keys, 'alice-ssh'));
    await writeFile(join(keys, 'alice-ssh', 'example.com-cert.pub'), `${sshCert}\n`);
    const caLine = sshCaKnownHostsLine(m.ca.certPem, 'example.com');
    await writeFile(join(home, 'known_hosts'), `proxy.example.com ssh-rsa AAAA\n${caLine}\n`);
    const creds = await readTshProfile(home);
    expect(creds.certPem).toBe(m.certPem);
    expect(creds.keyPem).toBe(m.keyPem);
    expect(creds.caPems).toEqual([m.ca.certPem]);
    expect(creds.sshCert).toBe(sshCert);
    expect(creds.sshCaLines).toEqual([caLine]);
  });

  it('selects a named profile and falls back to the profile name for cluster and key directory', async () => {
    await writeFile(join(home, 'other.yaml'), 'user: bob\n');
    const dir = join(home, 'keys', 'other');
    const bob = await userMaterial('rsa-2048', { ...ALICE, username: 'bob' }, m.ca);
    await mkdir(join(dir, 'cas'), { recursive: true });
    await writeFile(join(dir, 'bob.crt'), bob.certPem);
    await writeFile(join(dir, 'bob.key'), bob.keyPem);
    await writeFile(join(dir, 'cas', 'other.pem'), m.ca.certPem);
    const creds = await readTshProfile(home, { profile: 'other' });
    expect(creds.source).toEqual({
      kind: 'tsh-profile',
      home,
      profile: 'other',
      user: 'bob',
      proxyAddr: '',
      cluster: 'other',
      // The root cluster is the one whose CA issued the certificate.
      rootCluster: 'example.com',
    });
    expect(creds.certPem).toBe(bob.certPem);
  });

  it('picks the profile named after --proxy/TELEPORT_PROXY rather than the current one, and --cluster', async () => {
    await v17Layout();
    await writeFile(join(home, 'current-profile'), 'other\n');
    const creds = await readTshProfile(home, { proxy: 'proxy.example.com:443', cluster: 'leaf.example.com' });
    expect(creds.source).toMatchObject({
      profile: 'proxy.example.com',
      cluster: 'leaf.example.com',
      rootCluster: 'example.com',
    });
    expect(await caught(() => readTshProfile(home, { proxy: 'elsewhere.example.com:443' }))).toEqual({
      kind: 'permission',
      message: `no tsh profile for proxy "elsewhere.example.com" in "${home}"`,
    });
  });

  it('writes under the flock tsh takes on the key file, waiting while tsh holds it', async () => {
    await v17Layout();
    const creds = await readTshProfile(home);
    if (creds.source.kind !== 'tsh-profile') throw new Error('unexpected source');
    const holder = spawn('flock', ['-x', join(keys, 'alice.key'), '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    const next = await userMaterial('ecdsa-p256', { ...ALICE, activeRequests: ['r1'] }, m.ca);
    let written = false;
    const write = writeTshProfileCertificate(creds.source, next.certPem, { keyPem: next.keyPem }).then(() => {
      written = true;
    });
    // The writer is waiting for the lock (its own flock on the key file runs), and has written nothing.
    await flockWaiting(join(keys, 'alice.key'));
    expect(written).toBe(false);
    expect(await readFile(join(keys, 'alice.crt'), 'utf8')).toBe(m.certPem);
    holder.stdin.end();
    await write;
    expect(await readFile(join(keys, 'alice.crt'), 'utf8')).toBe(next.certPem);
  });

  it('explains a missing profile, certificate, key or CA in one line', async () => {
    const empty = join(tmp.dir, 'nowhere');
    expect(await caught(() => readTshProfile(empty))).toEqual({
      kind: 'permission',
      message: `tsh profile not found in "${empty}": run 'tsh login' or pass --identity`,
    });
    expect((await caught(() => readTshProfile(home, { profile: 'gone' }))).message).toBe(
      `tsh profile "gone" not found in "${home}": run 'tsh login' or pass --identity`,
    );
    const profile = 'tsh profile "proxy.example.com"';
    expect((await caught(() => readTshProfile(home))).message).toBe(
      `${profile}: no TLS certificate alice.crt in "${keys}": run 'tsh login'`,
    );
    await writeFile(join(keys, 'alice.crt'), m.certPem);
    expect((await caught(() => readTshProfile(home))).message).toBe(
      `${profile}: no TLS key alice.key in "${keys}": run 'tsh login'`,
    );
    await writeFile(join(keys, 'alice.key'), (await userMaterial()).keyPem);
    expect(await caught(() => readTshProfile(home))).toEqual({
      kind: 'permission',
      message: `TLS key "${join(keys, 'alice.key')}" does not match certificate "${join(keys, 'alice.crt')}"`,
    });
    await writeFile(join(keys, 'alice.key'), m.keyPem);
    expect((await caught(() => readTshProfile(home))).message).toBe(
      `${profile}: no TLS CA certificates in "${join(keys, 'cas')}" or "${join(keys, 'certs.pem')}": run 'tsh login'`,
    );
  });

  it('rejects a profile with invalid YAML or no user', async () => {
    const file = join(home, 'proxy.example.com.yaml');
    await writeFile(file, 'user: [unclosed\n');
    expect((await caught(() => readTshProfile(home))).message).toBe(
      `tsh profile "${file}" is not valid YAML`,
    );
    await writeFile(file, 'web_proxy_addr: proxy.example.com:443\n');
    expect((await caught(() => readTshProfile(home))).message).toBe(
      `tsh profile "${file}" has no user: run 'tsh login' or pass --identity`,
    );
  });

  it('writes a re-issued certificate back to the file it was read from, mode 0600', async () => {
    await v17Layout();
    const creds = await readTshProfile(home);
    if (creds.source.kind !== 'tsh-profile') throw new Error('unexpected source');
    const next = await userMaterial('ecdsa-p256', { ...ALICE, activeRequests: ['r1'] }, m.ca);
    await writeTshProfileCertificate(creds.source, next.certPem, { keyPem: next.keyPem });
    expect(await readFile(join(keys, 'alice.crt'), 'utf8')).toBe(next.certPem);
    expect(await readFile(join(keys, 'alice.key'), 'utf8')).toBe(next.keyPem);
    expect((await stat(join(keys, 'alice.crt'))).mode & 0o777).toBe(0o600);
    expect((await readTshProfile(home)).certPem).toBe(next.certPem);
    expect((await readdir(keys)).sort()).toEqual(['alice.crt', 'alice.key', 'cas']);
  });

  it('writes back to the legacy -x509.pem name when that is what the profile has', async () => {
    await writeFile(join(keys, 'alice-x509.pem'), m.certPem);
    await writeFile(join(keys, 'alice'), m.keyPem);
    await writeFile(join(keys, 'certs.pem'), m.ca.certPem);
    const creds = await readTshProfile(home);
    if (creds.source.kind !== 'tsh-profile') throw new Error('unexpected source');
    const next = await reissue(m, { ...ALICE, activeRequests: ['r1'] });
    await writeTshProfileCertificate(creds.source, next);
    expect((await readdir(keys)).sort()).toEqual(['alice', 'alice-x509.pem', 'certs.pem']);
    expect(await readFile(join(keys, 'alice-x509.pem'), 'utf8')).toBe(next);
    expect(await readFile(join(keys, 'alice'), 'utf8')).toBe(m.keyPem);
    expect((await readTshProfile(home)).certPem).toBe(next);
  });
});
