import {
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';

/**
 * OpenSSH certificates (PROTOCOL.certkeys) encoded by hand: the format is a flat list
 * of SSH wire strings and integers, small enough that a native addon is not worth it.
 */

const CERT_SUFFIX = '-cert-v01@openssh.com';
const SSH_CERT_TYPE_USER = 1;
const SSH_CERT_TYPE_HOST = 2;
/** OpenSSH's "valid forever" validBefore. */
const FOREVER = 0xffff_ffff_ffff_ffffn;
/** Dates past this (year 9999) are shown as the largest Date instead of overflowing. */
const MAX_DATE_SECONDS = 253_402_300_799n;

/** The extensions `ssh-keygen -s` grants to user certificates by default. */
export const DEFAULT_SSH_EXTENSIONS: Readonly<Record<string, string>> = {
  'permit-X11-forwarding': '',
  'permit-agent-forwarding': '',
  'permit-port-forwarding': '',
  'permit-pty': '',
  'permit-user-rc': '',
};

const EC_CURVES: Record<string, { ssh: string; jwk: string; hash: string; size: number }> = {
  prime256v1: { ssh: 'nistp256', jwk: 'P-256', hash: 'sha256', size: 32 },
  secp384r1: { ssh: 'nistp384', jwk: 'P-384', hash: 'sha384', size: 48 },
  secp521r1: { ssh: 'nistp521', jwk: 'P-521', hash: 'sha512', size: 66 },
};

class SshWriter {
  private readonly parts: Buffer[] = [];

  string(value: Buffer | string): this {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    this.uint32(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  uint32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value);
    this.parts.push(b);
    return this;
  }

  uint64(value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(value);
    this.parts.push(b);
    return this;
  }

  /** An unsigned big-endian integer as an SSH mpint (minimal, with a 0x00 pad when the top bit is set). */
  mpint(unsigned: Buffer): this {
    let start = 0;
    while (start < unsigned.length && unsigned[start] === 0) start++;
    const trimmed = unsigned.subarray(start);
    return this.string(
      trimmed.length > 0 && trimmed[0] & 0x80 ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed,
    );
  }

  raw(bytes: Buffer): this {
    this.parts.push(bytes);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class SshReader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}

  private take(n: number): Buffer {
    if (this.offset + n > this.buf.length) throw new Error('truncated SSH data');
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  uint32(): number {
    return this.take(4).readUInt32BE();
  }

  uint64(): bigint {
    return this.take(8).readBigUInt64BE();
  }

  string(): Buffer {
    return this.take(this.uint32());
  }

  text(): string {
    return this.string().toString('utf8');
  }

  /** An mpint as an unsigned big-endian integer (the 0x00 sign pad removed). */
  mpint(): Buffer {
    const b = this.string();
    return b.length > 0 && b[0] === 0 ? b.subarray(1) : b;
  }

  get done(): boolean {
    return this.offset === this.buf.length;
  }
}

function b64url(value: string | undefined): Buffer {
  if (!value) throw new Error('key is missing a component');
  return Buffer.from(value, 'base64url');
}

/** The SSH wire blob (`ssh-rsa`, `ecdsa-sha2-nistp*`, `ssh-ed25519`) of a public key. */
function publicKeyBlob(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  const w = new SshWriter();
  if (key.asymmetricKeyType === 'ec') {
    const curve = EC_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) throw new Error(`unsupported EC curve "${key.asymmetricKeyDetails?.namedCurve}"`);
    const point = Buffer.concat([Buffer.of(4), b64url(jwk.x), b64url(jwk.y)]);
    return w.string(`ecdsa-sha2-${curve.ssh}`).string(curve.ssh).string(point).toBuffer();
  }
  if (key.asymmetricKeyType === 'rsa') {
    return w.string('ssh-rsa').mpint(b64url(jwk.e)).mpint(b64url(jwk.n)).toBuffer();
  }
  if (key.asymmetricKeyType === 'ed25519') {
    return w.string('ssh-ed25519').string(b64url(jwk.x)).toBuffer();
  }
  throw new Error(`unsupported key type "${key.asymmetricKeyType}"`);
}

/** Reads the key fields that follow the type name in a public key blob (or in a certificate). */
function readKeyFields(keyType: string, r: SshReader): KeyObject {
  let jwk: JsonWebKey;
  if (keyType === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    jwk = { kty: 'RSA', e: e.toString('base64url'), n: n.toString('base64url') };
  } else if (keyType === 'ssh-ed25519') {
    jwk = { kty: 'OKP', crv: 'Ed25519', x: r.string().toString('base64url') };
  } else if (keyType.startsWith('ecdsa-sha2-')) {
    const curveName = r.text();
    const curve = Object.values(EC_CURVES).find((c) => c.ssh === curveName);
    if (!curve || `ecdsa-sha2-${curve.ssh}` !== keyType)
      throw new Error(`unsupported SSH key type "${keyType}"`);
    const point = r.string();
    if (point.length !== 1 + 2 * curve.size || point[0] !== 4) throw new Error('malformed ECDSA point');
    jwk = {
      kty: 'EC',
      crv: curve.jwk,
      x: point.subarray(1, 1 + curve.size).toString('base64url'),
      y: point.subarray(1 + curve.size).toString('base64url'),
    };
  } else {
    throw new Error(`unsupported SSH key type "${keyType}"`);
  }
  return createPublicKey({ key: jwk, format: 'jwk' });
}

function keyFromBlob(blob: Buffer): KeyObject {
  const r = new SshReader(blob);
  const key = readKeyFields(r.text(), r);
  if (!r.done) throw new Error('trailing data after SSH public key');
  return key;
}

function blobToLine(blob: Buffer): string {
  return `${new SshReader(blob).text()} ${blob.toString('base64')}`;
}

/** Splits an authorized_keys style line into its type and decoded blob (comments and options ignored). */
function parseKeyLine(line: string): { type: string; blob: Buffer } {
  const fields = line.trim().split(/\s+/);
  const type = fields[0] ?? '';
  const b64 = fields[1] ?? '';
  if (!type || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('not an SSH public key line');
  const blob = Buffer.from(b64, 'base64');
  if (new SshReader(blob).text() !== type) throw new Error('SSH key type does not match its data');
  return { type, blob };
}

/**
 * The authorized_keys line (`ecdsa-sha2-nistp256 AAAA…`, `ssh-rsa AAAA…`, no comment) of a
 * PEM public key, private key or certificate.
 */
export function sshPublicKeyFromPem(publicKeyPem: string): string {
  return blobToLine(publicKeyBlob(createPublicKey(publicKeyPem)));
}

/** Decodes an authorized_keys line into a Node public key. */
export function publicKeyFromSshLine(line: string): KeyObject {
  return keyFromBlob(parseKeyLine(line).blob);
}

/** Signs `data` as an SSH signature blob with the algorithm OpenSSH picks for the key's type. */
function sshSign(key: KeyObject, data: Buffer): Buffer {
  const w = new SshWriter();
  if (key.asymmetricKeyType === 'ec') {
    const curve = EC_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) throw new Error('unsupported CA key curve');
    const rs = sign(curve.hash, data, { key, dsaEncoding: 'ieee-p1363' });
    const inner = new SshWriter().mpint(rs.subarray(0, curve.size)).mpint(rs.subarray(curve.size)).toBuffer();
    return w.string(`ecdsa-sha2-${curve.ssh}`).string(inner).toBuffer();
  }
  if (key.asymmetricKeyType === 'rsa') {
    return w
      .string('rsa-sha2-512')
      .string(sign('sha512', data, key))
      .toBuffer();
  }
  if (key.asymmetricKeyType === 'ed25519') {
    return w
      .string('ssh-ed25519')
      .string(sign(null, data, key))
      .toBuffer();
  }
  throw new Error(`unsupported CA key type "${key.asymmetricKeyType}"`);
}

function sshVerify(key: KeyObject, data: Buffer, signatureBlob: Buffer): boolean {
  const r = new SshReader(signatureBlob);
  const alg = r.text();
  const sig = r.string();
  if (alg === 'rsa-sha2-512' || alg === 'rsa-sha2-256' || alg === 'ssh-rsa') {
    if (key.asymmetricKeyType !== 'rsa') return false;
    const hash = alg === 'rsa-sha2-512' ? 'sha512' : alg === 'rsa-sha2-256' ? 'sha256' : 'sha1';
    return verify(hash, data, key, sig);
  }
  if (alg === 'ssh-ed25519') return key.asymmetricKeyType === 'ed25519' && verify(null, data, key, sig);
  const curve = EC_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType !== 'ec' || !curve || alg !== `ecdsa-sha2-${curve.ssh}`) return false;
  const inner = new SshReader(sig);
  const pad = (b: Buffer) => Buffer.concat([Buffer.alloc(Math.max(0, curve.size - b.length)), b]);
  const rs = Buffer.concat([pad(inner.mpint()), pad(inner.mpint())]);
  return verify(curve.hash, data, { key, dsaEncoding: 'ieee-p1363' }, rs);
}

function encodeOptions(options: Record<string, string>): Buffer {
  const w = new SshWriter();
  // PROTOCOL.certkeys requires options and extensions in lexical order.
  for (const name of Object.keys(options).sort()) {
    const value = options[name];
    w.string(name).string(value === '' ? Buffer.alloc(0) : new SshWriter().string(value).toBuffer());
  }
  return w.toBuffer();
}

function decodeOptions(data: Buffer): Record<string, string> {
  const r = new SshReader(data);
  const out: Record<string, string> = {};
  while (!r.done) {
    const name = r.text();
    const value = r.string();
    out[name] = value.length === 0 ? '' : new SshReader(value).text();
  }
  return out;
}

function toSeconds(d: Date): bigint {
  return BigInt(Math.max(0, Math.floor(d.getTime() / 1000)));
}

function fromSeconds(s: bigint): Date {
  return s >= MAX_DATE_SECONDS ? new Date(8.64e15) : new Date(Number(s) * 1000);
}

export interface SshUserCertificateOptions {
  /** The CA's private key PEM. */
  caKeyPem: string;
  /** The user's public key as an authorized_keys line. */
  publicKeySsh: string;
  keyId: string;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
  /** Defaults to {@link DEFAULT_SSH_EXTENSIONS}. Values are '' for flag extensions. */
  extensions?: Record<string, string>;
  criticalOptions?: Record<string, string>;
  serial?: bigint;
}

/**
 * Creates an OpenSSH user certificate for `publicKeySsh`, signed by the CA key, and
 * returns it as one authorized_keys line (`<type>-cert-v01@openssh.com AAAA…`).
 */
export function createSshUserCertificate(opts: SshUserCertificateOptions): string {
  const caKey = createPrivateKey(opts.caKeyPem);
  const subject = parseKeyLine(opts.publicKeySsh);
  // The key fields follow the type name in both the public key blob and the certificate.
  const keyFields = subject.blob.subarray(new SshWriter().string(subject.type).toBuffer().length);
  const certType = `${subject.type}${CERT_SUFFIX}`;
  const principals = new SshWriter();
  for (const p of opts.principals) principals.string(p);
  const body = new SshWriter()
    .string(certType)
    .string(randomBytes(32))
    .raw(keyFields)
    .uint64(opts.serial ?? 0n)
    .uint32(SSH_CERT_TYPE_USER)
    .string(opts.keyId)
    .string(principals.toBuffer())
    .uint64(toSeconds(opts.validAfter))
    .uint64(toSeconds(opts.validBefore))
    .string(encodeOptions(opts.criticalOptions ?? {}))
    .string(encodeOptions(opts.extensions ?? DEFAULT_SSH_EXTENSIONS))
    .string(Buffer.alloc(0))
    .string(publicKeyBlob(createPublicKey(caKey)))
    .toBuffer();
  const cert = Buffer.concat([body, new SshWriter().string(sshSign(caKey, body)).toBuffer()]);
  return `${certType} ${cert.toString('base64')}`;
}

/** A decoded OpenSSH certificate. */
export interface SshCertificate {
  /** e.g. `ecdsa-sha2-nistp256-cert-v01@openssh.com`. */
  type: string;
  /** The certified key as an authorized_keys line. */
  publicKey: string;
  serial: bigint;
  certType: 'user' | 'host';
  keyId: string;
  principals: string[];
  validAfter: Date;
  /** The largest Date when the certificate never expires. */
  validBefore: Date;
  criticalOptions: Record<string, string>;
  extensions: Record<string, string>;
  /** The signing CA's public key as an authorized_keys line. */
  signatureKey: string;
  /** e.g. `ecdsa-sha2-nistp256`, `rsa-sha2-512`. */
  signatureAlgorithm: string;
  /** True when the signature verifies with `signatureKey`. */
  signatureValid: boolean;
}

/** Decodes an OpenSSH certificate line and checks its signature against the embedded CA key. */
export function parseSshCertificate(line: string): SshCertificate {
  const { type, blob } = parseKeyLine(line);
  if (!type.endsWith(CERT_SUFFIX)) throw new Error(`"${type}" is not an OpenSSH certificate type`);
  const keyType = type.slice(0, -CERT_SUFFIX.length);
  const r = new SshReader(blob);
  r.text();
  r.string();
  const keyStart = r.offset;
  readKeyFields(keyType, r);
  const keyFields = blob.subarray(keyStart, r.offset);
  const serial = r.uint64();
  const kind = r.uint32();
  if (kind !== SSH_CERT_TYPE_USER && kind !== SSH_CERT_TYPE_HOST)
    throw new Error(`unknown certificate type ${kind}`);
  const keyId = r.text();
  const principalData = new SshReader(r.string());
  const principals: string[] = [];
  while (!principalData.done) principals.push(principalData.text());
  const validAfter = r.uint64();
  const validBefore = r.uint64();
  const criticalOptions = decodeOptions(r.string());
  const extensions = decodeOptions(r.string());
  r.string();
  const signatureKeyBlob = r.string();
  const signedEnd = r.offset;
  const signature = r.string();
  if (!r.done) throw new Error('trailing data after SSH certificate');
  const signatureKey = keyFromBlob(signatureKeyBlob);
  return {
    type,
    publicKey: blobToLine(Buffer.concat([new SshWriter().string(keyType).toBuffer(), keyFields])),
    serial,
    certType: kind === SSH_CERT_TYPE_USER ? 'user' : 'host',
    keyId,
    principals,
    validAfter: fromSeconds(validAfter),
    validBefore: validBefore === FOREVER ? new Date(8.64e15) : fromSeconds(validBefore),
    criticalOptions,
    extensions,
    signatureKey: blobToLine(signatureKeyBlob),
    signatureAlgorithm: new SshReader(signature).text(),
    signatureValid: sshVerify(signatureKey, blob.subarray(0, signedEnd), signature),
  };
}

/**
 * A known_hosts line trusting `caPublicKeyPem` (public key or CA certificate PEM) for the
 * cluster's hosts, as Teleport writes them into identity files:
 * `@cert-authority <cluster>,*.<cluster> <key> type=host`.
 */
export function sshCaKnownHostsLine(caPublicKeyPem: string, clusterName: string): string {
  return `@cert-authority ${clusterName},*.${clusterName} ${sshPublicKeyFromPem(caPublicKeyPem)} type=host`;
}

/** True when the first token of `line` is an OpenSSH certificate type. */
export function isSshCertificateLine(line: string): boolean {
  const first = line.trim().split(/\s+/, 1)[0] ?? '';
  return first.endsWith(CERT_SUFFIX);
}
