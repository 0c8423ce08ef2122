/**
 * Size limits of an access request, shared by the CLI (which checks them before sending, so
 * bad input exits 2 and creates nothing) and the embedded server (which enforces them as
 * Teleport does). Where Teleport has a limit the value and wording are Teleport's
 * (lib/services/access_request.go); the others are ours, chosen so that a page of 200
 * requests, each at every limit, stays well under gRPC's default 4 MiB message size and one
 * requester cannot make `ls` fail for everyone (see test/unit/model/limits.test.ts).
 */

/** Teleport's maxAccessRequestReasonSize: request, resolve and review reasons, in bytes. */
export const MAX_REASON_BYTES = 4096;
/** Teleport's MaxAccessDuration: the longest access a request may grant (and a role's max_duration). */
export const MAX_ACCESS_DURATION_MS = 14 * 24 * 3_600_000;
/** Teleport's maxResourcesPerRequest (ValidateAccessRequest, before de-duplication). */
export const MAX_RESOURCES_PER_REQUEST = 300;
/** Teleport's maxResourcesLength: the summed length of the distinct resource ID strings (RequestValidator.Validate). */
export const MAX_RESOURCE_IDS_LENGTH = 2048;
/** Ours (Teleport has none): suggested reviewers a requester may name. */
export const MAX_SUGGESTED_REVIEWERS = 8;
/** Ours (Teleport has none): bytes of one suggested reviewer's name. */
export const MAX_NAME_BYTES = 128;
/** Ours (Teleport has none): labels on a request, and values of a request's resolve annotations. */
export const MAX_LABELS = 8;
/** Ours (Teleport has none): bytes of one label or annotation key or value (as Kubernetes' 63, rounded). */
export const MAX_LABEL_BYTES = 64;

/**
 * Ours (Teleport has none but gRPC's 4 MiB message): characters of an Access Monitoring Rule
 * condition. Every condition is parsed and evaluated for each new request, by the server and by
 * every webhook bridge; a hand-written or UI-built one is a few hundred characters, one naming a
 * hundred roles about 3,000, so 16 KiB refuses only generated or hostile text.
 */
export const MAX_CONDITION_LENGTH = 16_384;

/**
 * Ours (Teleport has none): the longest error text echoed, in characters. The server cuts a
 * gRPC status message to it (a 100,000-character role name in one overflowed the client's
 * HTTP/2 header list limit, and the call waited for its deadline), and the CLI its one error
 * line, so a long name or reason is never echoed in full.
 */
export const MAX_ECHOED_MESSAGE_CHARS = 1024;

/** `text` cut to `max` characters (never inside a surrogate pair), saying how much was left out. */
export function clipText(text: string, max = MAX_ECHOED_MESSAGE_CHARS): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}… (${(text.length - end).toLocaleString('en-US')} more characters)`;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** The first string of `items` longer than `max` bytes, if any. */
function tooLong(items: Iterable<string>, max: number): string | undefined {
  for (const s of items) if (bytes(s) > max) return s;
  return undefined;
}

/** `"abc…"` for a message: the value's start, escaped, so a huge or hostile value stays one short line. */
function quoteStart(s: string): string {
  return JSON.stringify(s.length > 20 ? `${s.slice(0, 20)}…` : s);
}

/** The parts of a new request the limits apply to. */
export interface RequestSize {
  reason: string;
  /** Resource IDs as strings (`/cluster/kind/name`), duplicates allowed. */
  resourceIds: readonly string[];
  /** Suggested reviewers as the requester gave them (before the roles' are added). */
  reviewers: readonly string[];
  labels: Readonly<Record<string, string>>;
}

/** What is wrong with the size of a new request, as one line; undefined when it fits. */
export function requestSizeProblem(r: RequestSize): string | undefined {
  if (bytes(r.reason) > MAX_REASON_BYTES) {
    return `access request reason is too long, max ${MAX_REASON_BYTES} bytes`;
  }
  if (r.resourceIds.length > MAX_RESOURCES_PER_REQUEST) {
    return `access request contains too many resources (${r.resourceIds.length}), max ${MAX_RESOURCES_PER_REQUEST}`;
  }
  let length = 0;
  for (const id of new Set(r.resourceIds)) length += id.length;
  if (length > MAX_RESOURCE_IDS_LENGTH) {
    return 'access request exceeds maximum length: try reducing the number of resources in the request';
  }
  if (r.reviewers.length > MAX_SUGGESTED_REVIEWERS) {
    return `access request names too many suggested reviewers (${r.reviewers.length}), max ${MAX_SUGGESTED_REVIEWERS}`;
  }
  const longReviewer = tooLong(r.reviewers, MAX_NAME_BYTES);
  if (longReviewer !== undefined) {
    return `suggested reviewer ${quoteStart(longReviewer)} is too long, max ${MAX_NAME_BYTES} bytes`;
  }
  return mapProblem('labels', 'label', Object.entries(r.labels));
}

/** What is wrong with the size of resolve annotations (SetAccessRequestState), if anything. */
export function annotationsProblem(
  annotations: Readonly<Record<string, readonly string[]>>,
): string | undefined {
  return mapProblem(
    'annotation values',
    'annotation',
    Object.entries(annotations).flatMap(([k, vs]) => (vs.length === 0 ? [[k, '']] : vs.map((v) => [k, v]))),
  );
}

function mapProblem(
  plural: string,
  one: string,
  pairs: readonly (readonly [string, string])[],
): string | undefined {
  if (pairs.length > MAX_LABELS)
    return `access request has too many ${plural} (${pairs.length}), max ${MAX_LABELS}`;
  const key = tooLong(
    pairs.map(([k]) => k),
    MAX_LABEL_BYTES,
  );
  if (key !== undefined) return `${one} key ${quoteStart(key)} is too long, max ${MAX_LABEL_BYTES} bytes`;
  const value = pairs.find(([, v]) => bytes(v) > MAX_LABEL_BYTES);
  if (value) return `${one} value of ${quoteStart(value[0])} is too long, max ${MAX_LABEL_BYTES} bytes`;
  return undefined;
}
