import { isIP } from 'node:net';
import { UsageError } from './errors.js';

/** A parsed `host:port`. `address` is what grpc-js dials (IPv6 in brackets). */
export interface HostPort {
  host: string;
  port: number;
  address: string;
}

/** A DNS name (letters, digits, `-`, `_`, dots between labels), at most 253 characters. */
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

/**
 * Parses `host`, `host:port`, `[v6]`, `[v6]:port` (a leading `https://` and a trailing
 * `/` are tolerated, as users paste proxy URLs), filling in `defaultPort`. The host must be
 * an IP address or a DNS name, so a typo is a usage error here rather than a dial failure
 * (exit 8) later. `flag` names where the value came from in the error.
 */
export function parseHostPort(input: string, defaultPort: number, flag: string): HostPort {
  const s = input
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/+$/, '');
  const bad = (what: string) => new UsageError(`invalid ${flag} ${JSON.stringify(input)}: ${what}`);
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
    if (host !== '' && isIP(host) !== 6) throw bad('expected an IPv6 address inside "[…]"');
  } else if ((s.match(/:/g) ?? []).length > 1) {
    host = s; // a bare IPv6 address
    if (isIP(host) !== 6) throw bad('expected HOST:PORT (put an IPv6 address in brackets: [::1]:3025)');
  } else {
    const i = s.lastIndexOf(':');
    host = i < 0 ? s : s.slice(0, i);
    portText = i < 0 ? undefined : s.slice(i + 1);
    if (host !== '' && isIP(host) === 0 && !HOSTNAME.test(host)) {
      throw bad('the host is not a valid host name or IP address');
    }
  }
  if (host === '') throw bad('missing the host');
  let port = defaultPort;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      throw bad('port must be a number from 1 to 65535');
    }
  }
  return { host, port, address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}` };
}
