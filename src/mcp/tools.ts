/**
 * The MCP tools of `access mcp`: each calls the same client domain functions as the command
 * that does the same thing, with credentials found as every command finds them. Descriptions
 * are written for a model: when to use the tool, what it returns, and what a person must do
 * next. Reviews stay with people: the review tool exists only with `--allow-review`, and even
 * then the server's rules decide (no self-review, thresholds).
 */
import type { AnySchema, ZodRawShapeCompat } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { Context } from '../cli/context.js';
import { parseDuration } from '../model/duration.js';
import { AccessError, UsageError } from '../model/errors.js';
import { type AccessRequest, approvalProgress, approvalProgressText } from '../model/request.js';
import { parseRequestId } from '../model/request-id.js';
import { parseResourceId } from '../model/resource-id.js';
import type { SearchKind } from '../model/search.js';
import * as S from './schemas.js';

/** What a tool call may use: a context of its own, its cancellation and progress. */
export interface ToolCall {
  ctx: Context;
  signal: AbortSignal;
  /** Sends an MCP progress notification when the client asked for them (a progressToken). */
  progress(progress: number, total: number | undefined, message: string): Promise<void>;
}

/** A tool's answer: one line for the model to read, and the structured result. */
export interface ToolAnswer {
  text: string;
  structured: Record<string, unknown>;
}

export interface Tool {
  name: string;
  title: string;
  description: string;
  input: ZodRawShapeCompat | AnySchema;
  output: ZodRawShapeCompat | AnySchema;
  /** MCP tool annotations: hints for the client about what a call changes. */
  annotations: {
    readOnlyHint: boolean;
    destructiveHint?: boolean;
    idempotentHint?: boolean;
    openWorldHint: boolean;
  };
  run(call: ToolCall, args: Record<string, unknown>): Promise<ToolAnswer>;
}

/** Said in every tool's description, so the model sees it whichever tool it reads. */
const REVIEWS_STAY_WITH_PEOPLE =
  'Reviews stay with people: approving or denying is for a person, never for you.';

const REVIEWS_ARE_PEOPLES =
  'Approving or denying is for people: never ask the user to approve their own request, and do not try to review it yourself.';

function progressOf(req: AccessRequest) {
  const p = approvalProgress(req);
  return {
    approvals: p.approvals,
    approvals_needed: p.approveNeeded,
    denials: p.denials,
    denials_needed: p.denyNeeded,
    summary: approvalProgressText(req),
  };
}

/** What a person runs to approve, and to whom the request was suggested. */
function approveStep(req: AccessRequest): string {
  const who =
    req.suggested_reviewers.length > 0
      ? `a reviewer (suggested: ${req.suggested_reviewers.join(', ')})`
      : 'a person allowed to review it';
  return `${who} must approve it with \`access request review ${req.id} --approve\` (${approvalProgressText(req)} so far)`;
}

function call(c: ToolCall) {
  return { signal: c.signal };
}

function ids(list: unknown): string[] {
  return ((list as string[] | undefined) ?? []).map((s) => parseRequestId(s.trim()));
}

function durationArg(text: unknown, name: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(String(text), name);
  if (ms <= 0) throw new UsageError(`${name} must be greater than zero`);
  return ms;
}

const whoami: Tool = {
  name: 'whoami',
  title: 'Who am I',
  description:
    'Shows who the configured Teleport credentials belong to: user, cluster, roles, the access requests the certificate already carries (their state and when the access ends), when the certificate expires, and where the credentials come from. ' +
    'Use it first, and after an "access denied", to see whether the access you need is already there. Changes nothing. ' +
    REVIEWS_STAY_WITH_PEOPLE,
  input: {},
  output: S.STATUS,
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(c) {
    const { whoami: status } = await import('../client/status.js');
    const s = await status(await c.ctx.connect(), call(c));
    const active = s.active_requests.map((r) => `${r.id} (${r.state ?? 'gone'})`).join(', ') || 'none';
    return {
      text: `${s.user} on ${s.cluster}; roles ${s.roles.join(', ')}; assumed requests: ${active}; certificate expires ${s.cert_expires}`,
      structured: { ...s },
    };
  },
};

const search: Tool = {
  name: 'search_requestable',
  title: 'Search what may be requested',
  description:
    'Lists what the user may ask access to: with kind "roles" (the default) the requestable roles with their descriptions; with a resource kind (node, db, app, kube_cluster, windows_desktop, ...) the resources of that kind the user could request, filtered by keywords, labels or a predicate query. ' +
    'Use it before create_access_request to pick roles or resource IDs (resource_id). Changes nothing. ' +
    REVIEWS_STAY_WITH_PEOPLE,
  input: S.SEARCH_INPUT,
  output: S.SEARCH_OUTPUT,
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(c, args) {
    const kind = args.kind as 'roles' | Exclude<SearchKind, 'kube_resource'>;
    if (kind === 'roles') {
      const { listRequestableRoles } = await import('../client/roles.js');
      const roles = await listRequestableRoles(await c.ctx.connect(), call(c));
      return {
        text:
          roles.length > 0
            ? `requestable roles: ${roles.map((r) => r.role).join(', ')}`
            : 'no requestable roles: the user may not request any role',
        structured: { roles, resources: [] },
      };
    }
    const { searchResources } = await import('../client/resources.js');
    const conn = await c.ctx.connectSelected();
    const cluster = await c.ctx.selectedCluster();
    const found = await searchResources(
      conn,
      cluster,
      kind,
      {
        keywords: (args.keywords as string[] | undefined) ?? [],
        query: (args.query as string | undefined) ?? '',
        labels: (args.labels as Record<string, string> | undefined) ?? {},
      },
      call(c),
    );
    return {
      text: `${found.length} ${kind} resource(s) may be requested${found.length > 0 ? `: ${found.map((r) => r.resource_id).join(', ')}` : ''}`,
      structured: { roles: [], resources: found },
    };
  },
};

const list: Tool = {
  name: 'list_access_requests',
  title: 'List access requests',
  description:
    'Lists the user\'s own access requests (scope "mine", the default), or other people\'s requests the user could review (scope "reviewable"), newest first, optionally only those in one state. ' +
    'Use it to find a request created earlier or to see whether one is still pending. Changes nothing. ' +
    REVIEWS_STAY_WITH_PEOPLE,
  input: S.LIST_INPUT,
  output: S.LIST_OUTPUT,
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(c, args) {
    const { requestPages } = await import('../client/list.js');
    const limit = args.limit as number;
    const found: AccessRequest[] = [];
    let more = false;
    await requestPages(
      await c.ctx.connect(),
      {
        state: args.state as AccessRequest['state'] | undefined,
        scope: args.scope === 'reviewable' ? 'needs-review' : 'mine',
        search: [],
        sort: 'created',
        descending: true,
      },
      { pageSize: limit + 1, limit: limit + 1, call: call(c) },
      {
        consume(page) {
          for (const r of page) {
            if (found.length < limit) found.push(r);
            else more = true;
          }
          return !more;
        },
      },
    );
    return {
      text: `${found.length} request(s)${more ? ' (more exist)' : ''}${found.length > 0 ? `: ${found.map((r) => `${r.id} ${r.state}`).join(', ')}` : ''}`,
      structured: { requests: found, more },
    };
  },
};

const get: Tool = {
  name: 'get_access_request',
  title: 'Show one access request',
  description:
    'Shows one access request by ID: its state, roles or resources, reason, the reviews people gave and the threshold progress ("1 of 2 approvals"). Changes nothing. ' +
    REVIEWS_STAY_WITH_PEOPLE,
  input: S.ID_INPUT,
  output: S.GET_OUTPUT,
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(c, args) {
    const { getRequest } = await import('../client/requests.js');
    const req = await getRequest(await c.ctx.connect(), parseRequestId(String(args.id)), call(c));
    const progress = progressOf(req);
    return {
      text: `request ${req.id} is ${req.state}${req.state === 'PENDING' ? ` (${progress.summary})` : ''}`,
      structured: { request: req, progress },
    };
  },
};

const create: Tool = {
  name: 'create_access_request',
  title: 'Ask for access',
  description:
    'Creates a just-in-time access request for roles and/or resources, with a reason people will read (required: say what task needs the access). ' +
    'It returns the request ID at once; nothing is granted yet. A person must approve it: tell the user who (the suggested reviewers) and that they run `access request review <id> --approve`. ' +
    `Then call wait_for_access_request with the ID. Use dry_run to check a request without creating it. ${REVIEWS_ARE_PEOPLES}`,
  input: S.CREATE_INPUT,
  output: S.CREATE_OUTPUT,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(c, args) {
    const roles = (args.roles as string[] | undefined) ?? [];
    const resources = ((args.resources as string[] | undefined) ?? []).map((s) => parseResourceId(s.trim()));
    if (roles.length === 0 && resources.length === 0) {
      throw new UsageError(
        'at least one role or resource must be given (roles or resources)',
        'call search_requestable to see what may be requested',
      );
    }
    const dryRun = args.dry_run === true;
    const { createRequest, dryRunRequest } = await import('../client/requests.js');
    const { isRpcError } = await import('../client/errors.js');
    const conn = await c.ctx.connect();
    const draft = {
      roles,
      resources,
      reason: String(args.reason),
      reviewers: (args.suggested_reviewers as string[] | undefined) ?? [],
      maxDurationMs: durationArg(args.max_duration, 'max_duration'),
      requestTtlMs: durationArg(args.request_ttl, 'request_ttl'),
      dryRun,
    };
    const opts = { ...call(c), now: c.ctx.now() };
    let req: AccessRequest;
    try {
      req = dryRun
        ? (await dryRunRequest(conn, draft, opts)).request
        : await createRequest(conn, draft, opts);
    } catch (err) {
      // As `request create`: a refusal is almost always something the user may not request.
      if (isRpcError(err) && (err.kind === 'permission' || err.kind === 'usage')) {
        throw new AccessError(
          err.kind,
          err.message,
          err.hint ?? 'call search_requestable to see what may be requested',
          {
            cause: err,
          },
        );
      }
      throw err;
    }
    const next = dryRun
      ? 'the request is valid; nothing was created. Call again without dry_run to create it.'
      : `${approveStep(req)}; then call wait_for_access_request with id ${req.id}.`;
    return {
      text: dryRun ? `dry run: ${next}` : `created access request ${req.id} (${req.state}): ${next}`,
      structured: { request: req, dry_run: dryRun, next_step: next },
    };
  },
};

const wait: Tool = {
  name: 'wait_for_access_request',
  title: 'Wait for approval',
  description:
    'Waits until people approve or deny an access request, following the server\'s watch stream (no polling), and reports progress ("1 of 2 approvals") as MCP progress notifications. ' +
    'On approval it assumes the request: the configured credentials are re-issued carrying it, so commands run next have the access (as `access request create` does). ' +
    'It returns outcome approved, denied, expired, deleted, or timeout (still pending after timeout_seconds: call it again). It can be cancelled. ' +
    REVIEWS_ARE_PEOPLES,
  input: S.WAIT_INPUT,
  output: S.WAIT_OUTPUT,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(c, args) {
    const id = parseRequestId(String(args.id));
    const [{ getRequest }, { waitForRequest }, reissue] = await Promise.all([
      import('../client/requests.js'),
      import('../client/wait.js'),
      import('../client/reissue.js'),
    ]);
    const conn = await c.ctx.connect();
    // An ID that never existed (or is not visible) is "not found", not "deleted while waiting".
    const first = await getRequest(conn, id, call(c));
    let sent = -1;
    let said = '';
    const result = await waitForRequest(conn, id, {
      user: first.user,
      timeoutMs: (args.timeout_seconds as number) * 1000,
      signal: c.signal,
      onUpdate: (req) => {
        if (req.state !== 'PENDING') return;
        const p = progressOf(req);
        // Progress must increase with each notification: approvals given, out of those needed.
        if (p.approvals <= sent || p.summary === said) return;
        sent = p.approvals;
        said = p.summary;
        void c.progress(p.approvals, p.approvals_needed, `request ${id}: ${p.summary}`);
      },
    });
    const req = result.request ?? null;
    const progress = req ? progressOf(req) : null;
    const base = { outcome: result.outcome, request: req, progress, assumed: null };
    switch (result.outcome) {
      case 'interrupted':
        throw new AccessError('interrupted', `stopped waiting for request ${id}; it is still pending`);
      case 'timeout':
        return {
          text: `request ${id} is still pending (${progress?.summary ?? 'no reviews yet'}) after ${args.timeout_seconds}s`,
          structured: {
            ...base,
            next_step: `still waiting for people: ${req ? approveStep(req) : 'a reviewer must approve it'}; call wait_for_access_request again to keep waiting.`,
          },
        };
      case 'denied':
        return {
          text: `request ${id} was denied${req?.resolve_reason ? `: ${req.resolve_reason}` : ''}`,
          structured: {
            ...base,
            next_step:
              'a person denied it; do not ask again for the same access without new information for them.',
          },
        };
      case 'promoted':
        return {
          text: `request ${id} was promoted to an Access List`,
          structured: {
            ...base,
            next_step: 'access was granted through an Access List; the user must log in again.',
          },
        };
      case 'expired':
      case 'deleted':
        return {
          text: `request ${id} ${result.outcome === 'expired' ? 'expired while pending' : 'has expired or been deleted'}`,
          structured: { ...base, next_step: 'create a new request if the access is still needed.' },
        };
      case 'approved':
        break;
    }
    if (!req) throw new AccessError('failure', `request ${id} was approved but could not be read`);
    if (args.assume === false || req.user !== conn.identity.username) {
      return {
        text: `request ${id} was approved; the credentials were not changed`,
        structured: {
          ...base,
          next_step:
            req.user !== conn.identity.username
              ? `the request is ${req.user}'s; only they can assume it.`
              : 'assume it with `access request assume ID` when the access is needed.',
        },
      };
    }
    const refusal = reissue.assumeRefusal(conn, req, `access request assume ${id}`);
    if (refusal) throw refusal;
    const assumed = await reissue.assumeRequest(conn, id, call(c));
    if (!assumed.identity) {
      return {
        text: `request ${id} was approved, but the credentials are read-only (a TLS trio) and were not re-issued`,
        structured: { ...base, next_step: 'use an identity file or the tsh profile to assume requests.' },
      };
    }
    return {
      text: `request ${id} was approved and assumed: the credentials now carry roles ${assumed.identity.roles.join(', ')}`,
      structured: {
        ...base,
        assumed: {
          roles: assumed.identity.roles,
          active_requests: assumed.identity.activeRequests,
          saved_to: assumed.where,
        },
        next_step:
          'the access is in place for commands that use these credentials; call drop_access when the task is done.',
      },
    };
  },
};

const drop: Tool = {
  name: 'drop_access',
  title: 'Give access back',
  description:
    'Drops assumed access requests from the configured credentials (all of them when no IDs are given), returning the user to their base roles. ' +
    'Call it when the task that needed the access is done. Nothing is deleted on the server. ' +
    REVIEWS_STAY_WITH_PEOPLE,
  input: S.DROP_INPUT,
  output: S.DROP_OUTPUT,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(c, args) {
    const { dropRequests, READ_ONLY_CREDENTIALS } = await import('../client/reissue.js');
    const wanted = ids(args.ids);
    if ((await c.ctx.credentials()).source.kind === 'tls-trio') {
      throw new UsageError(READ_ONLY_CREDENTIALS.message, READ_ONLY_CREDENTIALS.hint);
    }
    const dropped = await dropRequests(await c.ctx.connect(), wanted, call(c));
    return {
      text: `dropped ${dropped.dropped.join(', ') || 'nothing'}; roles now ${dropped.roles.join(', ')}`,
      structured: { ...dropped, locked: [] },
    };
  },
};

const review: Tool = {
  name: 'review_access_request',
  title: "Review someone else's access request",
  description:
    "Approves or denies another user's access request as the configured user, with a reason. Offered only because `access mcp --allow-review` was given. " +
    'The server decides: nobody may review their own request, and the request is resolved only once its thresholds are met. Only use it when a person asked you to review a specific request.',
  input: S.REVIEW_INPUT,
  output: S.REVIEW_OUTPUT,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(c, args) {
    const { reviewRequest } = await import('../client/requests.js');
    const req = await reviewRequest(
      await c.ctx.connect(),
      parseRequestId(String(args.id)),
      {
        proposal: args.decision === 'approve' ? 'APPROVED' : 'DENIED',
        reason: String(args.reason),
        created: c.ctx.now(),
      },
      call(c),
    );
    const progress = progressOf(req);
    return {
      text: `reviewed ${req.id}: it is now ${req.state}${req.state === 'PENDING' ? ` (${progress.summary})` : ''}`,
      structured: { request: req, progress },
    };
  },
};

/** The tools `access mcp` serves; the review tool only with `--allow-review`. */
export function tools(opts: { allowReview: boolean }): Tool[] {
  return [whoami, search, list, get, create, wait, drop, ...(opts.allowReview ? [review] : [])];
}
