import { UsageError } from './errors.js';

/** Request states by name, indexed by their wire number (types.RequestState). */
export const REQUEST_STATE_NAMES = ['NONE', 'PENDING', 'APPROVED', 'DENIED', 'PROMOTED'] as const;

/** A request or review state as it appears in our output: always the name, never the number. */
export type RequestStateName = (typeof REQUEST_STATE_NAMES)[number];

/**
 * The name of a wire `RequestState` number. A number this build does not know (a newer
 * server, or ts-proto's UNRECOGNIZED = -1) reads as `NONE`, which no command treats as an outcome.
 */
export function stateName(n: number): RequestStateName {
  return Number.isInteger(n) && n >= 0 && n < REQUEST_STATE_NAMES.length ? REQUEST_STATE_NAMES[n] : 'NONE';
}

/** The wire number of a state name, case-insensitive; a UsageError listing the names otherwise. */
export function stateNumber(name: string): number {
  const i = (REQUEST_STATE_NAMES as readonly string[]).indexOf(name.trim().toUpperCase());
  if (i < 0) {
    throw new UsageError(
      `unknown request state ${JSON.stringify(name)} (one of ${REQUEST_STATE_NAMES.join(', ')})`,
    );
  }
  return i;
}

/** A state name as typed (any case); a UsageError listing the names otherwise. */
export function parseStateName(text: string): RequestStateName {
  return REQUEST_STATE_NAMES[stateNumber(text)];
}

/** One review of a request, in our JSON shape (spec/cli.md). */
export interface Review {
  author: string;
  /** The state the reviewer proposed: APPROVED or DENIED. */
  state: RequestStateName;
  reason: string;
  created: string | null;
  roles: string[];
  annotations: Record<string, string[]>;
  assume_start_time: string | null;
}

/** An approval threshold: how many approvals grant the request and how many denials refuse it. */
export interface Threshold {
  name: string;
  approve: number;
  deny: number;
}

/**
 * An access request in our JSON shape (spec/cli.md). Times are RFC 3339 UTC strings or null
 * when unset. Keys are declared, and must be emitted, in the spec's order; use
 * {@link newAccessRequest} to get that order whatever order the fields were computed in.
 */
export interface AccessRequest {
  id: string;
  user: string;
  roles: string[];
  /** Resource ID strings, `/<cluster>/<kind>/<name>…`. */
  resources: string[];
  state: RequestStateName;
  reason: string;
  resolve_reason: string;
  suggested_reviewers: string[];
  created: string | null;
  /** When the request lapses if still pending (metadata.expires). */
  expires: string | null;
  /** When access granted by the request ends (spec.expires). */
  access_expires: string | null;
  /** Expiry of the certificate issued with the request assumed (spec.session_ttl, an absolute time). */
  session_expires: string | null;
  /** Latest time access may last until (spec.max_duration, an absolute time). */
  max_duration: string | null;
  assume_start_time: string | null;
  thresholds: Threshold[];
  reviews: Review[];
  /** Annotations set by the resolving reviewer (spec.resolve_annotations). */
  annotations: Record<string, string[]>;
  system_annotations: Record<string, string[]>;
}

/** Key order of a request in JSON/YAML output. */
export const ACCESS_REQUEST_KEYS = [
  'id',
  'user',
  'roles',
  'resources',
  'state',
  'reason',
  'resolve_reason',
  'suggested_reviewers',
  'created',
  'expires',
  'access_expires',
  'session_expires',
  'max_duration',
  'assume_start_time',
  'thresholds',
  'reviews',
  'annotations',
  'system_annotations',
] as const satisfies readonly (keyof AccessRequest)[];

/** Key order of a review in JSON/YAML output. */
export const REVIEW_KEYS = [
  'author',
  'state',
  'reason',
  'created',
  'roles',
  'annotations',
  'assume_start_time',
] as const satisfies readonly (keyof Review)[];

/** Fields of a review; author and state are required, the rest default to empty. */
export type ReviewInit = Partial<Review> & Pick<Review, 'author' | 'state'>;

/** Fields of a request; only the ID is required, the rest default to empty. */
export type AccessRequestInit = Partial<Omit<AccessRequest, 'reviews'>> &
  Pick<AccessRequest, 'id'> & { reviews?: ReviewInit[] };

/**
 * A request with every field in the spec's key order; missing fields take their empty value
 * (`''`, `[]`, `{}`, null; state NONE). Reviews are put in order too.
 */
export function newAccessRequest(init: AccessRequestInit): AccessRequest {
  return {
    id: init.id,
    user: init.user ?? '',
    roles: init.roles ?? [],
    resources: init.resources ?? [],
    state: init.state ?? 'NONE',
    reason: init.reason ?? '',
    resolve_reason: init.resolve_reason ?? '',
    suggested_reviewers: init.suggested_reviewers ?? [],
    created: init.created ?? null,
    expires: init.expires ?? null,
    access_expires: init.access_expires ?? null,
    session_expires: init.session_expires ?? null,
    max_duration: init.max_duration ?? null,
    assume_start_time: init.assume_start_time ?? null,
    thresholds: (init.thresholds ?? []).map((t) => ({ name: t.name, approve: t.approve, deny: t.deny })),
    reviews: (init.reviews ?? []).map(newReview),
    annotations: init.annotations ?? {},
    system_annotations: init.system_annotations ?? {},
  };
}

/** A review with every field in the spec's key order; missing fields take their empty value. */
export function newReview(init: ReviewInit): Review {
  return {
    author: init.author,
    state: init.state,
    reason: init.reason ?? '',
    created: init.created ?? null,
    roles: init.roles ?? [],
    annotations: init.annotations ?? {},
    assume_start_time: init.assume_start_time ?? null,
  };
}

/** Counts for "1 of 2 approvals" text. */
export interface ApprovalProgress {
  approvals: number;
  denials: number;
  /** The largest `approve` among the thresholds, at least 1. */
  approveNeeded: number;
  /** The largest `deny` among the thresholds, at least 1. */
  denyNeeded: number;
}

/**
 * Review counts against the strictest threshold. Teleport evaluates thresholds per role and
 * filter; for a one-line summary the largest requirement is the honest upper bound.
 */
export function approvalProgress(req: Pick<AccessRequest, 'reviews' | 'thresholds'>): ApprovalProgress {
  let approvals = 0;
  let denials = 0;
  for (const r of req.reviews) {
    if (r.state === 'APPROVED') approvals++;
    else if (r.state === 'DENIED') denials++;
  }
  let approveNeeded = 1;
  let denyNeeded = 1;
  for (const t of req.thresholds) {
    approveNeeded = Math.max(approveNeeded, t.approve);
    denyNeeded = Math.max(denyNeeded, t.deny);
  }
  return { approvals, denials, approveNeeded, denyNeeded };
}

/**
 * Threshold progress in words, `1 of 2 approvals` (and `, 1 of 2 denials` once a denial came
 * in): the one text the spinner, `show` and the MCP progress notifications share.
 */
export function approvalProgressText(req: Pick<AccessRequest, 'reviews' | 'thresholds'>): string {
  const p = approvalProgress(req);
  const parts = [`${p.approvals} of ${p.approveNeeded} approval${p.approveNeeded === 1 ? '' : 's'}`];
  if (p.denials > 0) parts.push(`${p.denials} of ${p.denyNeeded} denial${p.denyNeeded === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/**
 * One line of `access request watch --format json`. `init` carries no request (the stream is
 * live); `delete` carries only the ID.
 */
export interface WatchEvent {
  type: 'init' | 'put' | 'delete';
  request: AccessRequest | null;
  /** The request ID; `''` for `init`. */
  id: string;
}

/** What a user may request and who reviews it (`access request caps`). */
export interface Capabilities {
  requestable_roles: string[];
  suggested_reviewers: string[];
  applicable_roles: string[];
  request_prompt: string;
  require_reason: boolean;
  auto_request: boolean;
}

/**
 * What a dry run of `access request create` reports about the reason: the server's mode
 * (`required` or `optional`) and the roles' prompts. Newer Teleport sends it with the dry
 * run (AccessRequestDryRunEnrichment); for an older server it comes from
 * GetAccessCapabilities (require_reason, request_prompt).
 */
export interface ReasonPolicy {
  reason_mode: 'required' | 'optional';
  reason_prompts: string[];
}

/** The reason policy of a server that sends no dry-run enrichment, from its capabilities. */
export function reasonPolicyFromCapabilities(caps: Capabilities): ReasonPolicy {
  return {
    reason_mode: caps.require_reason ? 'required' : 'optional',
    reason_prompts: caps.request_prompt ? [caps.request_prompt] : [],
  };
}

/** `create --dry-run` in JSON/YAML: the request it would create, then the reason policy. */
export type DryRunResult = AccessRequest & ReasonPolicy;
