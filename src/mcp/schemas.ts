/**
 * The MCP tools' input and output schemas (zod, which the SDK turns into the JSON Schemas a
 * client sees). Outputs are our documented JSON shapes (src/model/schema.ts, `access help
 * formats`): a request is the `request` document, whoami the `status` document, drop the
 * `drop-result` document. test/e2e/mcp.test.ts checks every structured result against those.
 */
import * as z from 'zod';
import { REQUEST_STATE_NAMES } from '../model/request.js';
import { SEARCH_KINDS } from '../model/search.js';

const time = z.string().describe('RFC 3339 UTC');
const timeOrNull = time.nullable();
const stringList = z.array(z.string());
const annotations = z.record(z.string(), z.array(z.string()));
const state = z.enum(REQUEST_STATE_NAMES);

export const REVIEW = z.object({
  author: z.string(),
  state,
  reason: z.string(),
  created: timeOrNull,
  roles: stringList,
  annotations,
  assume_start_time: timeOrNull,
});

/** The `request` document. */
export const REQUEST = z
  .object({
    id: z.string().describe('request ID'),
    user: z.string().describe('requesting user'),
    roles: stringList.describe('requested roles'),
    resources: stringList.describe('requested resource IDs'),
    state: state.describe('PENDING until people resolve it; APPROVED, DENIED or PROMOTED after'),
    reason: z.string(),
    resolve_reason: z.string().describe('reason given by whoever approved or denied it'),
    suggested_reviewers: stringList,
    created: timeOrNull,
    expires: timeOrNull.describe('when the request lapses if still pending'),
    access_expires: timeOrNull.describe('when access granted by the request ends'),
    session_expires: timeOrNull,
    max_duration: timeOrNull,
    assume_start_time: timeOrNull,
    thresholds: z.array(z.object({ name: z.string(), approve: z.number(), deny: z.number() })),
    reviews: z.array(REVIEW).describe('reviews by people, oldest first'),
    annotations,
    system_annotations: annotations,
  })
  .describe('An access request');

/** Threshold progress, as `show` and the spinner word it. */
export const PROGRESS = z.object({
  approvals: z.number().int().describe('approvals given'),
  approvals_needed: z.number().int().describe('approvals the strictest threshold needs'),
  denials: z.number().int(),
  denials_needed: z.number().int(),
  summary: z.string().describe('e.g. "1 of 2 approvals"'),
});

/** The `status` document. */
export const STATUS = {
  user: z.string(),
  cluster: z.string(),
  roles: stringList.describe('roles of the certificate, including those of assumed requests'),
  active_requests: z
    .array(
      z.object({
        id: z.string(),
        state: state.nullable().describe('null when the server no longer has it'),
        roles: stringList,
        resources: stringList,
        access_expires: timeOrNull,
      }),
    )
    .describe('requests the certificate carries (assumed)'),
  allowed_resources: stringList,
  cert_expires: time,
  impersonator: z.string().nullable(),
  credentials: z.object({
    kind: z.enum(['identity-file', 'tls-trio', 'tsh-profile']),
    path: z.string(),
    writable: z.boolean().describe('whether assuming a request rewrites these credentials'),
  }),
};

/** What a person or the agent does next, in one sentence. */
const nextStep = z.string().describe('what happens next and who must act');

export const SEARCH_INPUT = {
  kind: z
    .enum(['roles', ...SEARCH_KINDS.filter((k) => k !== 'kube_resource')])
    .default('roles')
    .describe('"roles" lists requestable roles; a resource kind searches resources of that kind'),
  keywords: stringList.optional().describe('resources only: words to match in names, hostnames and labels'),
  labels: z.record(z.string(), z.string()).optional().describe('resources only: labels that must match'),
  query: z
    .string()
    .optional()
    .describe('resources only: a Teleport predicate expression, e.g. labels.env == "staging"'),
};

export const SEARCH_OUTPUT = {
  roles: z
    .array(z.object({ role: z.string(), description: z.string() }))
    .describe('requestable roles (kind "roles"); empty otherwise'),
  resources: z
    .array(
      z.object({
        kind: z.string(),
        name: z.string(),
        hostname: z.string(),
        namespace: z.string(),
        labels: z.record(z.string(), z.string()),
        resource_id: z.string().describe('pass this to create_access_request in resources'),
      }),
    )
    .describe('matching resources (a resource kind); empty for kind "roles"'),
};

export const LIST_INPUT = {
  scope: z
    .enum(['mine', 'reviewable'])
    .default('mine')
    .describe('"mine": your own requests; "reviewable": requests of others you could review'),
  state: z
    .enum(['PENDING', 'APPROVED', 'DENIED', 'PROMOTED'])
    .optional()
    .describe('only requests in this state'),
  limit: z.number().int().min(1).max(100).default(20).describe('at most this many, newest first'),
};

export const LIST_OUTPUT = {
  requests: z.array(REQUEST),
  more: z.boolean().describe('more requests matched'),
};

export const ID_INPUT = { id: z.string().describe('request ID (a UUID)') };

export const GET_OUTPUT = { request: REQUEST, progress: PROGRESS };

export const CREATE_INPUT = {
  roles: stringList.optional().describe('roles to request (see search_requestable with kind "roles")'),
  resources: stringList
    .optional()
    .describe('resource IDs to request, e.g. /cluster/node/<uuid> (resource_id from search_requestable)'),
  reason: z
    .string()
    .min(1)
    .describe('why access is needed, for the people who review it: the task, ticket or incident'),
  suggested_reviewers: stringList.optional().describe('people to ask to review it'),
  max_duration: z
    .string()
    .optional()
    .describe('longest access may last once approved, a Go duration such as "1h" or "30m"'),
  request_ttl: z.string().optional().describe('how long the request may stay pending, e.g. "2h"'),
  dry_run: z.boolean().default(false).describe('only validate: nothing is created'),
};

export const CREATE_OUTPUT = {
  request: REQUEST,
  dry_run: z.boolean(),
  next_step: nextStep,
};

export const WAIT_INPUT = {
  id: z.string().describe('request ID returned by create_access_request'),
  timeout_seconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(300)
    .describe('stop waiting after this many seconds (the request stays pending; call again to keep waiting)'),
  assume: z
    .boolean()
    .default(true)
    .describe(
      'on approval, re-issue the configured credentials with the request (as `access request create` does)',
    ),
};

export const WAIT_OUTPUT = {
  outcome: z
    .enum(['approved', 'denied', 'promoted', 'expired', 'deleted', 'timeout'])
    .describe('approved: access granted; timeout: still pending, call again; the rest are final'),
  request: REQUEST.nullable().describe('the request as last seen; null once deleted'),
  progress: PROGRESS.nullable(),
  assumed: z
    .object({
      roles: stringList.describe('roles of the re-issued certificate'),
      active_requests: stringList,
      saved_to: z.string().describe('where the credentials were written'),
    })
    .nullable()
    .describe('set when the credentials now carry the request'),
  next_step: nextStep,
};

export const DROP_INPUT = {
  ids: stringList.optional().describe('request IDs to drop; omit to drop every assumed request'),
};

export const DROP_OUTPUT = {
  dropped: stringList.describe('requests no longer carried'),
  active_requests: stringList.describe('requests still carried'),
  roles: stringList.describe('roles of the re-issued certificate'),
  locked: stringList.describe('always empty here: locking is for people (`access request lock`)'),
};

export const REVIEW_INPUT = {
  id: z.string().describe('request ID'),
  decision: z.enum(['approve', 'deny']),
  reason: z.string().min(1).describe('why, for the requester and the audit log'),
};

export const REVIEW_OUTPUT = { request: REQUEST, progress: PROGRESS };
