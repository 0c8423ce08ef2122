import { REQUEST_STATE_NAMES, type RequestStateName } from './request.js';

/**
 * JSON Schemas (draft 2020-12) of every JSON document `access` prints. They are the contract
 * behind `access help formats`: every field is required, and `additionalProperties: false`
 * makes a test fail when the output drifts from what is documented here. The shape is
 * additive-only: new fields may appear, existing ones never change meaning.
 */

/** The subset of JSON Schema these schemas use. A type alias (not an interface) so Ajv accepts it. */
export type JsonSchema = {
  $schema?: string;
  title?: string;
  description?: string;
  type?: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null' | readonly string[];
  enum?: readonly (string | null)[];
  pattern?: string;
  minimum?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: readonly JsonSchema[];
};

/** The outcome for one ID of `approve`/`deny`; a failure on one ID does not hide the others. */
export interface ActionResult {
  id: string;
  ok: boolean;
  /** The request state after the action, or null when it failed. */
  state: RequestStateName | null;
  /** The one-line error, or null on success. */
  error: string | null;
}

/** The result of `access request drop`. */
export interface DropResult {
  /** IDs of the requests dropped from the certificate. */
  dropped: string[];
  /** Requests still assumed by the re-issued certificate. */
  active_requests: string[];
  /** Roles of the re-issued certificate. */
  roles: string[];
  /** Names of the locks made with --lock (empty without it). */
  locked: string[];
}

/** The result of `access request rm`. */
export interface RmResult {
  deleted: string[];
  /** Names of the locks made with --lock (empty without it). */
  locked: string[];
}

/** The result of `access lock rm`. */
export interface LockRmResult {
  /** Names of the deleted locks. */
  deleted: string[];
}

/** The result of `access sign-helper`. */
export interface SignHelperResult {
  /** Paths of the files written. */
  files: string[];
  user: string;
  /** Expiry of the issued certificate, RFC 3339 UTC. */
  expires: string;
}

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

/** RFC 3339 in UTC as toIsoOrNull writes it; a pattern rather than `format` so no format plugin is needed. */
const UTC_TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$';

function object(description: string, properties: Record<string, JsonSchema>, title?: string): JsonSchema {
  return {
    ...(title ? { title } : {}),
    description,
    type: 'object',
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

function string(description: string): JsonSchema {
  return { type: 'string', description };
}

function boolean(description: string): JsonSchema {
  return { type: 'boolean', description };
}

function count(description: string): JsonSchema {
  return { type: 'integer', minimum: 0, description };
}

function strings(description: string): JsonSchema {
  return { type: 'array', items: { type: 'string' }, description };
}

function arrayOf(items: JsonSchema, description: string): JsonSchema {
  return { type: 'array', items, description };
}

function time(description: string): JsonSchema {
  return { type: 'string', pattern: UTC_TIME_PATTERN, description };
}

function timeOrNull(description: string): JsonSchema {
  return { type: ['string', 'null'], pattern: UTC_TIME_PATTERN, description };
}

function state(description: string): JsonSchema {
  return { type: 'string', enum: REQUEST_STATE_NAMES, description };
}

function annotations(description: string): JsonSchema {
  return { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description };
}

function root(schema: JsonSchema): JsonSchema {
  return { $schema: DRAFT, ...schema };
}

const REVIEW = object('A review of the request.', {
  author: string('user who reviewed'),
  state: state('proposed state: APPROVED or DENIED'),
  reason: string('reviewer reason ("" when none)'),
  created: timeOrNull('when the review was submitted'),
  roles: strings('roles the reviewer acted under'),
  annotations: annotations('reviewer annotations, key to values'),
  assume_start_time: timeOrNull('start time the reviewer proposed, or null'),
});

const THRESHOLD = object('An approval threshold.', {
  name: string('threshold name'),
  approve: count('approvals needed'),
  deny: count('denials needed'),
});

const REQUEST_BODY = object(
  'An access request.',
  {
    id: string('request ID'),
    user: string('requesting user'),
    roles: strings('requested roles'),
    resources: strings('requested resource IDs (/<cluster>/<kind>/<name>…)'),
    state: state('NONE, PENDING, APPROVED, DENIED or PROMOTED'),
    reason: string('request reason ("" when none)'),
    resolve_reason: string('reason given when the request was approved or denied'),
    suggested_reviewers: strings('reviewers suggested by the requester'),
    created: timeOrNull('when the request was created'),
    expires: timeOrNull('when the request lapses if still pending'),
    access_expires: timeOrNull('when access granted by the request ends'),
    session_expires: timeOrNull('expiry of a certificate issued with the request'),
    max_duration: timeOrNull('latest time access may last until'),
    assume_start_time: timeOrNull('earliest time the request may be assumed, or null'),
    thresholds: arrayOf(THRESHOLD, 'approval thresholds'),
    reviews: arrayOf(REVIEW, 'reviews, oldest first'),
    annotations: annotations('annotations set when the request was resolved'),
    system_annotations: annotations('annotations added by the role policy'),
  },
  'AccessRequest',
);

const SEARCH_RESULT = object(
  'A resource that can be requested.',
  {
    kind: string(
      'node, db, app, kube_cluster, windows_desktop, user_group, saml_idp_service_provider, aws_ic_account, aws_ic_account_assignment or a kube:ns:/kube:cw: kind',
    ),
    name: string('resource name'),
    hostname: string(
      "hostname or address (a SAML service provider's entity ID, an Identity Center account's AWS account ID, an account assignment's display name; \"\" when the kind has none)",
    ),
    namespace: string('Kubernetes namespace ("" when not namespaced)'),
    labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'labels, key to value' },
    resource_id: string('ID to pass to `access request create --resource`'),
  },
  'SearchResult',
);

const ACTION_RESULT = object(
  'The outcome for one request ID.',
  {
    id: string('request ID'),
    ok: boolean('whether the action succeeded'),
    state: {
      type: ['string', 'null'],
      enum: [...REQUEST_STATE_NAMES, null],
      description: 'state afterwards, or null on failure',
    },
    error: { type: ['string', 'null'], description: 'one-line error, or null on success' },
  },
  'ActionResult',
);

/** `access request create --wait` and `access request wait`: the request in its final state. */
export const ACCESS_REQUEST_SCHEMA: JsonSchema = root({
  ...REQUEST_BODY,
  description: 'One access request (create, wait, review, and show given one ID).',
});

/** `access request create --dry-run`: the request it would create, then the reason policy. */
export const DRY_RUN_SCHEMA: JsonSchema = root(
  object(
    'The request a dry run would create, with the reason policy (create --dry-run).',
    {
      ...(REQUEST_BODY.properties ?? {}),
      reason_mode: {
        type: 'string',
        enum: ['required', 'optional'],
        description: 'required or optional: whether this request needs a reason',
      },
      reason_prompts: strings("the roles' reason prompts, sorted"),
    },
    'DryRunResult',
  ),
);

/**
 * `access request ls` and `access request show` given several IDs: an array of requests (`[]`
 * when none). `show` given one ID prints that one request, as kubectl prints one object.
 */
export const ACCESS_REQUEST_LIST_SCHEMA: JsonSchema = root({
  title: 'AccessRequest[]',
  description: 'A list of access requests (ls, and show given several IDs).',
  type: 'array',
  items: REQUEST_BODY,
});

/** `access request search`: an array of search results. */
export const SEARCH_RESULTS_SCHEMA: JsonSchema = root({
  title: 'SearchResult[]',
  description: 'Resources matching a search (search).',
  type: 'array',
  items: SEARCH_RESULT,
});

/** `access request watch --format json`: one event per line (NDJSON). */
export const WATCH_EVENT_SCHEMA: JsonSchema = root(
  object(
    'One change, printed one per line (watch).',
    {
      type: { type: 'string', enum: ['init', 'put', 'delete'], description: 'init, put or delete' },
      request: {
        anyOf: [REQUEST_BODY, { type: 'null' }],
        description: 'the request after the change; null for init and delete',
      },
      id: string('request ID ("" for init)'),
    },
    'WatchEvent',
  ),
);

/** `access request caps`. */
export const CAPABILITIES_SCHEMA: JsonSchema = root(
  object(
    'What a user may request and who reviews it (caps).',
    {
      requestable_roles: strings('roles the user may request'),
      suggested_reviewers: strings('reviewers suggested by the role policy'),
      applicable_roles: strings('roles that would grant access to the given resources'),
      request_prompt: string('prompt to show when asking for a reason'),
      require_reason: boolean('whether a reason is required'),
      auto_request: boolean('whether tsh creates a request at login'),
    },
    'Capabilities',
  ),
);

/** `access request approve|deny`: one result per ID. */
export const ACTION_RESULTS_SCHEMA: JsonSchema = root({
  title: 'ActionResult[]',
  description: 'One result per request ID (approve, deny).',
  type: 'array',
  items: ACTION_RESULT,
});

/** `access request search --roles`: role names. */
export const ROLES_SCHEMA: JsonSchema = root({
  title: 'string[]',
  description: 'Roles the caller may request (search --roles).',
  type: 'array',
  items: { type: 'string' },
});

/** `access request search --roles --descriptions`: roles with their descriptions. */
export const REQUESTABLE_ROLES_SCHEMA: JsonSchema = root({
  title: 'RequestableRole[]',
  description: 'Roles the caller may request, with their descriptions (search --roles --descriptions).',
  type: 'array',
  items: object(
    'A requestable role.',
    {
      role: string('role name'),
      description: string(
        'the role\'s metadata.description ("" when it has none or the server is older than Teleport 18)',
      ),
    },
    'RequestableRole',
  ),
});

/** `access request drop`. */
export const DROP_RESULT_SCHEMA: JsonSchema = root(
  object(
    'Requests dropped from the certificate (drop).',
    {
      dropped: strings('IDs of the dropped requests'),
      active_requests: strings('requests the re-issued certificate still assumes'),
      roles: strings('roles of the re-issued certificate'),
      locked: strings('names of the locks made with --lock (empty without it)'),
    },
    'DropResult',
  ),
);

/** `access request rm`. */
export const RM_RESULT_SCHEMA: JsonSchema = root(
  object(
    'Deleted requests (rm).',
    {
      deleted: strings('IDs of the deleted requests'),
      locked: strings('names of the locks made with --lock (empty without it)'),
    },
    'RmResult',
  ),
);

const REQUEST_LOCK = object(
  'A lock on an access request: the Auth Service refuses every certificate carrying the request while it is in force.',
  {
    name: string('lock name'),
    access_request: string('ID of the locked request'),
    message: string('message shown to locked-out users (may be empty)'),
    expires: timeOrNull('when the lock stops being in force; null = never'),
    created: timeOrNull('when the lock was made'),
    created_by: string('user who made the lock'),
    in_force: boolean('whether the lock is in force now'),
  },
  'RequestLock',
);

/** `access request lock`. */
export const REQUEST_LOCK_SCHEMA: JsonSchema = root(REQUEST_LOCK);

/** `access lock ls`. */
export const REQUEST_LOCKS_SCHEMA: JsonSchema = root({
  description: 'Locks on access requests (lock ls).',
  type: 'array',
  items: REQUEST_LOCK,
});

/** `access lock rm`. */
export const LOCK_RM_RESULT_SCHEMA: JsonSchema = root(
  object('Deleted locks (lock rm).', { deleted: strings('names of the deleted locks') }, 'LockRmResult'),
);

/** `access sign-helper`. */
export const SIGN_HELPER_RESULT_SCHEMA: JsonSchema = root(
  object(
    'Files written by sign-helper.',
    {
      files: strings('paths of the files written'),
      user: string('user the certificate was issued for'),
      expires: time('expiry of the certificate'),
    },
    'SignHelperResult',
  ),
);

/** `access status` (alias `whoami`) and the MCP tool `whoami`. */
export const STATUS_SCHEMA: JsonSchema = root(
  object(
    'Who the credentials say you are (status).',
    {
      user: string('user the certificate was issued to'),
      cluster: string('cluster that issued it'),
      roles: strings('roles of the certificate, including those of assumed requests'),
      active_requests: arrayOf(
        object('A request the certificate carries.', {
          id: string('request ID'),
          state: {
            type: ['string', 'null'],
            enum: [...REQUEST_STATE_NAMES, null],
            description: 'state now, or null when the server no longer has it',
          },
          roles: strings('requested roles'),
          resources: strings('requested resource IDs'),
          access_expires: timeOrNull('when the access it grants ends'),
        }),
        'requests the certificate carries',
      ),
      allowed_resources: strings('resource IDs the certificate is limited to (empty: no limit)'),
      cert_expires: time('when the certificate expires'),
      impersonator: {
        type: ['string', 'null'],
        description:
          'who issued it for the user (tctl auth sign), or null; such a certificate cannot assume requests',
      },
      credentials: object('where the credentials came from', {
        kind: {
          type: 'string',
          enum: ['identity-file', 'tls-trio', 'tsh-profile'],
          description: 'identity-file, tls-trio or tsh-profile',
        },
        path: string("the identity file, the trio's certificate, or the tsh profile directory"),
        writable: boolean('whether assume and drop rewrite them (a TLS trio is read-only)'),
      }),
    },
    'Status',
  ),
);

/** Every output schema by name, in the order `access help formats` lists them. */
export const SCHEMAS = {
  request: ACCESS_REQUEST_SCHEMA,
  'dry-run': DRY_RUN_SCHEMA,
  requests: ACCESS_REQUEST_LIST_SCHEMA,
  'search-results': SEARCH_RESULTS_SCHEMA,
  'watch-event': WATCH_EVENT_SCHEMA,
  capabilities: CAPABILITIES_SCHEMA,
  'action-results': ACTION_RESULTS_SCHEMA,
  roles: ROLES_SCHEMA,
  'requestable-roles': REQUESTABLE_ROLES_SCHEMA,
  'drop-result': DROP_RESULT_SCHEMA,
  'rm-result': RM_RESULT_SCHEMA,
  'sign-helper-result': SIGN_HELPER_RESULT_SCHEMA,
  lock: REQUEST_LOCK_SCHEMA,
  locks: REQUEST_LOCKS_SCHEMA,
  'lock-rm-result': LOCK_RM_RESULT_SCHEMA,
  status: STATUS_SCHEMA,
} as const satisfies Record<string, JsonSchema>;

export type SchemaName = keyof typeof SCHEMAS;

const NAME_WIDTH = 26;
const TYPE_WIDTH = 24;

function typeText(s: JsonSchema, nested: boolean): string {
  if (nested && s.title) return s.title;
  if (s.anyOf) return s.anyOf.map((x) => typeText(x, true)).join(' or ');
  const orNull = Array.isArray(s.type) && s.type.includes('null') ? ' or null' : '';
  if (s.enum)
    return s.enum.length <= 3
      ? s.enum.join(s.enum.join('|').length > 24 ? ' | ' : '|')
      : `state name${orNull}`;
  if (s.pattern === UTC_TIME_PATTERN) return `time${orNull}`;
  if (s.type === 'array' && s.items) {
    const inner = typeText(s.items, true);
    return s.items.title ? `array of ${inner}` : `array of ${inner === 'object' ? 'objects' : `${inner}s`}`;
  }
  if (s.type === 'object' && typeof s.additionalProperties === 'object') {
    const value = s.additionalProperties;
    return value.type === 'array' ? '{key: [string, …]}' : '{key: string}';
  }
  if (Array.isArray(s.type)) return s.type.join(' or ');
  return String(s.type);
}

function fieldLines(s: JsonSchema, indent: string, out: string[]): void {
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    const label = `${indent}${name}`.padEnd(NAME_WIDTH);
    const type = typeText(prop, true).padEnd(TYPE_WIDTH);
    out.push(`${label} ${type} ${prop.description ?? ''}`.trimEnd());
    const child = prop.type === 'array' ? prop.items : prop;
    if (child?.properties && !child.title) fieldLines(child, `${indent}  `, out);
  }
}

/**
 * A plain-text description of every JSON output, for `access help formats`: each document,
 * the commands that print it, and its fields with their types.
 */
export function schemaDoc(): string {
  const out: string[] = [
    'JSON output (--format json; YAML has the same structure). Every field is always present;',
    'times are RFC 3339 in UTC, or null when unset; states are names, never numbers. Fields may',
    'be added in later versions; existing fields keep their meaning.',
  ];
  const described = new Set<string>();
  for (const [name, schema] of Object.entries(SCHEMAS) as [SchemaName, JsonSchema][]) {
    out.push('', `${name}: ${schema.description ?? ''}`);
    if (schema.type === 'array' && schema.items) {
      const item = schema.items;
      out.push(
        `  array of ${item.title ?? 'object'}${item.title && described.has(item.title) ? ' (see above)' : ''}`,
      );
      if (item.title && described.has(item.title)) continue;
      if (item.title) described.add(item.title);
      out.push(`  ${item.title ?? 'object'}:`);
      fieldLines(item, '    ', out);
    } else {
      if (schema.title) described.add(schema.title);
      fieldLines(schema, '  ', out);
    }
  }
  return `${out.join('\n')}\n`;
}
