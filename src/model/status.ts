import type { RequestStateName } from './request.js';

/** Where the credentials in use came from, as `access status` reports it. */
export interface CredentialOrigin {
  /** identity-file, tls-trio or tsh-profile. */
  kind: 'identity-file' | 'tls-trio' | 'tsh-profile';
  /** The identity file, the certificate of a trio, or the tsh profile's directory. */
  path: string;
  /** Whether assuming or dropping a request rewrites these credentials (a TLS trio is read-only). */
  writable: boolean;
}

/** A request the certificate carries, as the server describes it now. */
export interface ActiveRequest {
  id: string;
  /** The request's state now; null when the server no longer has it (deleted, or not visible). */
  state: RequestStateName | null;
  roles: string[];
  resources: string[];
  /** When the access it grants ends (spec.expires), RFC 3339 UTC. */
  access_expires: string | null;
}

/**
 * Who the credentials say the caller is (`access status`, alias `whoami`; the MCP tool
 * `whoami`), as tsh status shows it. Keys in this order.
 */
export interface Status {
  user: string;
  cluster: string;
  /** Roles of the certificate, including those of assumed requests. */
  roles: string[];
  /** Requests the certificate carries. */
  active_requests: ActiveRequest[];
  /** Resource IDs the certificate is limited to by assumed resource requests (empty: no limit). */
  allowed_resources: string[];
  /** When the certificate expires, RFC 3339 UTC. */
  cert_expires: string;
  /** Who issued the certificate for this user (`tctl auth sign`), or null; such a certificate cannot assume requests. */
  impersonator: string | null;
  credentials: CredentialOrigin;
}
