import { AccessError, type ErrorKind, oneLine } from '../model/errors.js';
import { hintForServerAnswer } from '../model/server-messages.js';

/** gRPC status names, indexed by their code (grpc/doc/statuscodes.md). */
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** A gRPC status by name: `NOT_FOUND`, `UNAVAILABLE`, … */
export type StatusName = (typeof STATUS_NAMES)[number];

/**
 * The name of a status code received on the wire. A code outside the table is UNKNOWN, as
 * gRPC clients treat it.
 */
export function statusName(code: number): StatusName {
  return STATUS_NAMES[code] ?? 'UNKNOWN';
}

/**
 * A failed RPC: the gRPC status and the server's status details. Thrown only from the
 * client edge, which names the status once; callers branch on `code` or `kind`, never on
 * the message.
 */
export class RpcError extends AccessError {
  /** The raw status details as received (Teleport sends trace.UserMessage). */
  readonly details: string;

  constructor(
    /** The gRPC status name. */
    readonly code: StatusName,
    message: string,
    opts: { kind?: ErrorKind; details?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(opts.kind ?? kindForCode(code), oneLine(message), opts.hint, { cause: opts.cause });
    this.details = opts.details ?? message;
  }
}

/** The error kind (and so the exit code) of a gRPC status, as spec/cli.md lists them. */
export function kindForCode(code: StatusName): ErrorKind {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return 'usage';
    case 'NOT_FOUND':
      return 'not-found';
    case 'PERMISSION_DENIED':
    case 'UNAUTHENTICATED':
      return 'permission';
    case 'UNAVAILABLE':
      return 'unavailable';
    default:
      return 'failure';
  }
}

export function isRpcError(err: unknown, code?: StatusName): err is RpcError {
  return err instanceof RpcError && (code === undefined || err.code === code);
}

/**
 * The RpcError of a status the server (or the transport) reported. Connection-level
 * failures are refined by the caller (see rpc.ts) before this is used for them.
 */
export function fromStatus(
  code: StatusName,
  rawDetails: string,
  endpoint: string,
  cause?: unknown,
): RpcError {
  const details = oneLine(rawDetails || code);
  if (code === 'UNAVAILABLE') {
    return new RpcError(code, `cannot reach ${endpoint}: ${details}`, { details: rawDetails, cause });
  }
  return new RpcError(code, details, {
    details: rawDetails,
    cause,
    hint: hintForServerAnswer(code, details),
  });
}

/** Codes Node's TLS layer uses when the server's chain does not lead to a trusted CA. */
const UNTRUSTED_SERVER_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);

/** Whether `err` says the server's certificate does not chain to a trusted CA. */
export function isUntrustedServerError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && UNTRUSTED_SERVER_CODES.has(code);
}

/** TLS alerts a server sends when it refuses the client certificate. */
const CLIENT_CERT_REJECTED_CODES = new Set([
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
]);

/**
 * Code of the error a probe reports when the server completed the TLS handshake and then
 * closed without a byte. Node TLS servers refuse a client certificate that way (they check
 * it after the handshake and send no alert), so in mTLS it means the certificate was refused.
 */
export const CLOSED_AFTER_HANDSHAKE = 'ACCESS_CLOSED_AFTER_HANDSHAKE';

const SOCKET_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ENOENT: 'no such socket',
};

/** Extra context a classification can use. */
export interface TlsContext {
  /** The server name the certificate was checked against. */
  serverName: string;
  /** The ALPN protocol offered first, when going through a Proxy. */
  alpn?: string;
}

/**
 * Turns a socket or TLS error from connecting to `endpoint` (e.g. `the Auth Service at
 * 127.0.0.1:3025`) into a one-line RpcError, or undefined when it is not recognised.
 * A refused or untrusted server is `unavailable` (exit 8); a client certificate the
 * server refuses is `permission` (exit 7).
 */
export function classifyConnectError(err: unknown, endpoint: string, ctx: TlsContext): RpcError | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  const unavailable = (what: string, hint?: string) =>
    new RpcError('UNAVAILABLE', `cannot reach ${endpoint}: ${what}`, { hint, cause: err });
  if (code in SOCKET_CODES) return unavailable(SOCKET_CODES[code]);
  if (UNTRUSTED_SERVER_CODES.has(code)) {
    return unavailable(
      "TLS handshake failed: server certificate is not signed by a trusted CA (check --ca / the identity file's CAs)",
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return unavailable(
      `TLS handshake failed: server certificate is not valid for ${JSON.stringify(ctx.serverName)} (check --tls-server-name)`,
    );
  }
  if (code === 'CERT_HAS_EXPIRED')
    return unavailable('TLS handshake failed: the server certificate has expired');
  if (code === 'CERT_NOT_YET_VALID')
    return unavailable('TLS handshake failed: the server certificate is not valid yet');
  if (code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') {
    const offered = ctx.alpn ? ` ${JSON.stringify(ctx.alpn)}` : '';
    return unavailable(
      `TLS handshake failed: the server refused the ALPN protocol${offered} (check the cluster name)`,
    );
  }
  if (CLIENT_CERT_REJECTED_CODES.has(code) || code === CLOSED_AFTER_HANDSHAKE) {
    const why =
      code === CLOSED_AFTER_HANDSHAKE ? 'connection closed after the TLS handshake' : alertName(code);
    return new RpcError('UNAUTHENTICATED', `${endpoint} rejected the client certificate (${why})`, {
      kind: 'permission',
      hint: 're-issue it (tsh login, tctl auth sign) or check that it was issued by this cluster',
      cause: err,
    });
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return unavailable(`TLS handshake failed: ${oneLine((err as Error).message)}`);
  }
  return undefined;
}

/** `ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE` → `bad certificate`. */
function alertName(code: string): string {
  return code
    .replace(/^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_/, '')
    .toLowerCase()
    .replace(/_/g, ' ');
}
