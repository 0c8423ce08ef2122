/**
 * Reading certificates with node:crypto only: the Teleport identity in a certificate's
 * subject, its validity and its public key. Every command that connects does this, so it
 * must not load the X.509 library that issuing certificates needs (x509.ts).
 *
 * Node's X509Certificate parses and checks the certificate, but renders the subject as
 * escaped text (`O=a\, b`, unknown OIDs as dotted numbers, multi-valued RDNs joined by `+`),
 * which cannot be split back reliably; so the subject and validity are read from the DER
 * with the small walk below.
 */
import { X509Certificate } from 'node:crypto';
import { AccessError } from '../model/errors.js';
import type { TeleportIdentity } from './types.js';

/**
 * Subject attribute OIDs of Teleport's identity encoding (lib/tlsca). They are extra
 * RDN attributes in the Subject DN, not X.509 extensions.
 */
export const SUBJECT_OIDS = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  streetAddress: '2.5.4.9',
  postalCode: '2.5.4.17',
  teleportCluster: '1.3.9999.1.7',
  impersonator: '1.3.9999.2.7',
  activeRequests: '1.3.9999.2.8',
  disallowReissue: '1.3.9999.2.9',
  allowedResourceIds: '1.3.9999.2.10',
} as const;

const INVALID = 'certificate is not a valid X.509 certificate';

function invalid(): AccessError {
  return new AccessError('permission', INVALID);
}

function parseCertificate(cert: string | Uint8Array): X509Certificate {
  try {
    return new X509Certificate(typeof cert === 'string' ? cert : Buffer.from(cert));
  } catch {
    throw invalid();
  }
}

/** One DER element: its tag, where its contents start and end. */
interface Element {
  tag: number;
  start: number;
  end: number;
}

const TAG = {
  integer: 0x02,
  oid: 0x06,
  utf8String: 0x0c,
  numericString: 0x12,
  printableString: 0x13,
  t61String: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
  version: 0xa0,
} as const;

/** Reads the element at `pos`, which must end by `limit`; throws on anything malformed. */
function element(der: Buffer, pos: number, limit: number): Element {
  if (pos + 2 > limit) throw invalid();
  const tag = der[pos];
  // Certificates use only low tag numbers; 0x1f would start a multi-byte tag.
  if ((tag & 0x1f) === 0x1f) throw invalid();
  let len = der[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw invalid();
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i];
    start += n;
  }
  const end = start + len;
  if (end > limit) throw invalid();
  return { tag, start, end };
}

function expect(der: Buffer, pos: number, limit: number, tag: number): Element {
  const e = element(der, pos, limit);
  if (e.tag !== tag) throw invalid();
  return e;
}

function oidText(der: Buffer, e: Element): string {
  if (e.end === e.start) throw invalid();
  const arcs: number[] = [];
  let value = 0;
  for (let i = e.start; i < e.end; i++) {
    value = value * 128 + (der[i] & 0x7f);
    if (!(der[i] & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  if (der[e.end - 1] & 0x80) throw invalid();
  const first = arcs[0] < 80 ? Math.floor(arcs[0] / 40) : 2;
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?*&]*$/;

/**
 * An attribute value as Go's crypto/x509 reads it (parser.go, parseASN1String): the string
 * types a certificate may use, checked; any other type makes the certificate invalid, as
 * it does for Teleport.
 */
function stringValue(der: Buffer, e: Element): string {
  const bytes = der.subarray(e.start, e.end);
  try {
    switch (e.tag) {
      case TAG.utf8String:
        return utf8.decode(bytes);
      case TAG.printableString: {
        const s = bytes.toString('latin1');
        if (PRINTABLE.test(s)) return s;
        break;
      }
      case TAG.ia5String:
        if (bytes.every((b) => b < 0x80)) return bytes.toString('latin1');
        break;
      case TAG.numericString:
        if (bytes.every((b) => (b >= 0x30 && b <= 0x39) || b === 0x20)) return bytes.toString('latin1');
        break;
      case TAG.t61String:
        // Go treats T.61 as Latin-1, as BoringSSL does.
        return bytes.toString('latin1');
      case TAG.bmpString:
        return bmpString(bytes);
    }
  } catch {
    // A fatal UTF-8 decode error.
  }
  throw invalid();
}

function bmpString(bytes: Buffer): string {
  if (bytes.length % 2 !== 0) throw invalid();
  let end = bytes.length;
  if (end >= 2 && bytes[end - 1] === 0 && bytes[end - 2] === 0) end -= 2;
  let s = '';
  for (let i = 0; i < end; i += 2) {
    const unit = bytes.readUInt16BE(i);
    // UCS-2: no surrogates, no permanent non-characters.
    if (unit === 0xfffe || unit === 0xffff || (unit >= 0xfdd0 && unit <= 0xfdef)) throw invalid();
    if (unit >= 0xd800 && unit <= 0xdfff) throw invalid();
    s += String.fromCharCode(unit);
  }
  return s;
}

/** UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime `YYYYMMDDHHMMSS[.f]Z`, as DER requires. */
function timeValue(der: Buffer, e: Element): Date {
  const s = der.toString('latin1', e.start, e.end);
  const utc = e.tag === TAG.utcTime ? /^(\d\d)(\d{10})Z$/.exec(s) : null;
  const general = e.tag === TAG.generalizedTime ? /^(\d{4})(\d{10})(\.\d*[1-9])?Z$/.exec(s) : null;
  const m = utc ?? general;
  if (!m) throw invalid();
  // RFC 5280 §4.1.2.5.1: a two-digit year from 50 is 19YY, below 50 is 20YY.
  const year = utc ? (Number(m[1]) < 50 ? 2000 : 1900) + Number(m[1]) : Number(m[1]);
  const rest = m[2];
  const num = (i: number) => Number(rest.slice(i, i + 2));
  const ms = m[3] ? Math.floor(Number(`0${m[3]}`) * 1000) : 0;
  const d = new Date(0);
  d.setUTCFullYear(year, num(0) - 1, num(2));
  d.setUTCHours(num(4), num(6), num(8), ms);
  if (
    d.getUTCMonth() !== num(0) - 1 ||
    d.getUTCDate() !== num(2) ||
    num(4) > 23 ||
    num(6) > 59 ||
    num(8) > 59
  ) {
    throw invalid();
  }
  return d;
}

/** The subject attributes (OID and value, in order, multi-valued RDNs flattened) and validity. */
interface TbsFields {
  subject: { oid: string; value: string }[];
  notBefore: Date;
  notAfter: Date;
}

/**
 * Walks Certificate → TBSCertificate → version, serial, signature, issuer, validity,
 * subject (RFC 5280 §4.1), the way Go's parseName reads a Name (crypto/x509/parser.go).
 */
function tbsFields(der: Buffer): TbsFields {
  const cert = expect(der, 0, der.length, TAG.sequence);
  const tbs = expect(der, cert.start, cert.end, TAG.sequence);
  let pos = tbs.start;
  const next = (tag: number) => {
    const e = expect(der, pos, tbs.end, tag);
    pos = e.end;
    return e;
  };
  if (element(der, pos, tbs.end).tag === TAG.version) next(TAG.version);
  next(TAG.integer);
  next(TAG.sequence); // signature algorithm
  next(TAG.sequence); // issuer
  const validity = next(TAG.sequence);
  const notBefore = element(der, validity.start, validity.end);
  const notAfter = element(der, notBefore.end, validity.end);
  const name = next(TAG.sequence);
  const subject: TbsFields['subject'] = [];
  for (let p = name.start; p < name.end; ) {
    const rdn = expect(der, p, name.end, TAG.set);
    for (let q = rdn.start; q < rdn.end; ) {
      const atv = expect(der, q, rdn.end, TAG.sequence);
      const oid = expect(der, atv.start, atv.end, TAG.oid);
      const value = element(der, oid.end, atv.end);
      if (value.end !== atv.end) throw invalid();
      subject.push({ oid: oidText(der, oid), value: stringValue(der, value) });
      q = atv.end;
    }
    p = rdn.end;
  }
  return { subject, notBefore: timeValue(der, notBefore), notAfter: timeValue(der, notAfter) };
}

/**
 * Reads the Teleport identity from a PEM certificate. Like Teleport's FromSubject it
 * requires a non-empty CN and at least one O.
 */
export function parseIdentity(certPem: string): TeleportIdentity {
  return identityOf(parseCertificate(certPem).raw);
}

/** Reads the Teleport identity from a DER certificate (e.g. a TLS peer certificate's `raw`). */
export function parseIdentityDer(der: Uint8Array): TeleportIdentity {
  return identityOf(parseCertificate(der).raw);
}

function identityOf(der: Buffer): TeleportIdentity {
  const fields = tbsFields(der);
  const values = (oid: string) => fields.subject.filter((a) => a.oid === oid).map((a) => a.value);
  const first = (oid: string): string | undefined => values(oid).find((v) => v !== '');
  const username = first(SUBJECT_OIDS.commonName);
  const roles = values(SUBJECT_OIDS.organization).filter((r) => r !== '');
  if (!username || roles.length === 0) {
    throw new AccessError('permission', 'certificate has no Teleport identity (CN and O required)');
  }
  const traitsJson = first(SUBJECT_OIDS.postalCode);
  const resourcesJson = first(SUBJECT_OIDS.allowedResourceIds);
  const identity: TeleportIdentity = {
    username,
    roles,
    traits: traitsJson ? parseTraits(traitsJson) : {},
    activeRequests: values(SUBJECT_OIDS.activeRequests).filter((r) => r !== ''),
    allowedResourceIds: resourcesJson ? parseResourceIds(resourcesJson) : [],
    notBefore: fields.notBefore,
    expires: fields.notAfter,
  };
  const routeToCluster = first(SUBJECT_OIDS.streetAddress);
  const teleportCluster = first(SUBJECT_OIDS.teleportCluster);
  const impersonator = first(SUBJECT_OIDS.impersonator);
  if (routeToCluster) identity.routeToCluster = routeToCluster;
  if (teleportCluster) identity.teleportCluster = teleportCluster;
  if (impersonator) identity.impersonator = impersonator;
  const usage = values(SUBJECT_OIDS.organizationalUnit).filter((u) => u !== '');
  if (usage.length > 0) identity.usage = usage;
  if (first(SUBJECT_OIDS.disallowReissue) === 'true') identity.disallowReissue = true;
  return identity;
}

function parseTraits(json: string): Record<string, string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new AccessError('permission', 'certificate traits (POSTALCODE) are not valid JSON');
  }
  // Go writes a nil map as `null`.
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AccessError('permission', 'certificate traits (POSTALCODE) are not a JSON object');
  }
  const traits: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value === null) {
      traits[key] = [];
    } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      traits[key] = value;
    } else {
      throw new AccessError('permission', `certificate trait "${key}" is not a list of strings`);
    }
  }
  return traits;
}

function parseResourceIds(json: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new AccessError(
      'permission',
      'certificate allowed resource IDs (1.3.9999.2.10) are not valid JSON',
    );
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) {
    throw new AccessError(
      'permission',
      'certificate allowed resource IDs (1.3.9999.2.10) are not a list of strings',
    );
  }
  return parsed;
}

/** The certificate's NotAfter. */
export function certificateExpiry(certPem: string): Date {
  return tbsFields(parseCertificate(certPem).raw).notAfter;
}

/** The SubjectPublicKeyInfo DER of a certificate, for matching it with a private key. */
export function certificateSpki(certPem: string): Buffer {
  return parseCertificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
}
