import { Command, Option } from '@commander-js/extra-typings';
import type { Connection } from '../../client/index.js';
import { UsageError } from '../../model/errors.js';
import { type AccessRequest, parseStateName, type RequestStateName } from '../../model/request.js';
import { structuredListWriter } from '../../render/format.js';
import {
  REASON_COLUMN,
  REASON_FOOTNOTE,
  REQUEST_COLUMNS,
  REQUEST_TABLE,
  requestRow,
} from '../../render/request.js';
import { tableWriter } from '../../render/table.js';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { CONDITION_FLAG, CONDITION_HELP, requestCondition } from './condition.js';
import { callOpts, note } from './shared.js';

export const SORTS = ['created', 'state', 'user'] as const;
export type Sort = (typeof SORTS)[number];

export interface LsOptions {
  /** Undefined for any state. */
  state?: RequestStateName;
  user?: string;
  mine: boolean;
  reviewable: boolean;
  suggested: boolean;
  /** Requests this user has reviewed (scope REVIEWED). */
  reviewed: boolean;
  /** The filter's search keywords (matched by the server against the request's fields). */
  search: string[];
  /** Also requests whose access has already expired (hidden by default, as tctl and tsh do). */
  all: boolean;
  sort: Sort;
  ascending: boolean;
  /** Maximum rows; undefined for all. */
  limit?: number;
  /** An Access Monitoring Rule condition the requests must match. */
  condition?: string;
}

/**
 * Requests asked for per ListAccessRequests call. Teleport serves up to 16,000 and 1,000 when
 * unset (lib/services/access_request_cache.go, ListMatchingAccessRequests:
 * apidefaults.DefaultChunkSize). Measured over 100,000 requests (`--format json`), 500 cost the
 * least CPU: 200 pays for twice the calls, 1,000 for a young GC that more often lands inside
 * a page.
 */
const PAGE_SIZE = 500;

export function define() {
  return (
    new Command('ls')
      .alias('list')
      .description('List access requests, newest first; filters are applied by the server.')
      .option('--state <state>', 'only requests in this state (PENDING, APPROVED, DENIED, PROMOTED)')
      .option('--user <user>', 'only requests of this user')
      .option('--mine', 'only my requests')
      // tsh's name for --mine (tool/tsh/common/tsh.go: `request ls --my-requests`).
      .addOption(new Option('--my-requests').hideHelp())
      .option('--reviewable', 'only requests I can review')
      .option('--suggested', 'only reviewable requests that name me as a suggested reviewer')
      .option('--reviewed', 'only requests I have reviewed')
      .option(
        '--search <keywords>',
        'only requests matching all these keywords (space-separated; each is found, ignoring case, in a label key or value, the ID, the user, a role or a requested resource name, not in reasons or states)',
      )
      .option('--all', 'also requests whose access has already expired')
      .addOption(new Option('--sort <field>', 'sort by').choices(SORTS).default('created'))
      .option('--asc', 'oldest (or lowest) first')
      .option('--limit <n>', 'show at most N requests')
      .option(CONDITION_FLAG, CONDITION_HELP)
  );
}

export function parse(_args: [], flags: FlagsOf<typeof define>): LsOptions {
  const stateText = flags.state;
  const limitText = flags.limit;
  let limit: number | undefined;
  if (limitText !== undefined) {
    limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1) {
      throw new UsageError(`invalid --limit ${JSON.stringify(limitText)}: expected a positive whole number`);
    }
  }
  const opts: LsOptions = {
    state: stateText === undefined ? undefined : parseStateName(stateText),
    user: flags.user,
    mine: flags.mine === true || flags.myRequests === true,
    reviewable: flags.reviewable === true,
    suggested: flags.suggested === true,
    reviewed: flags.reviewed === true,
    search: (flags.search ?? '').split(/\s+/).filter((k) => k !== ''),
    all: flags.all === true,
    sort: flags.sort,
    ascending: flags.asc === true,
    limit,
    condition: flags.condition,
  };
  if (opts.mine && (opts.reviewable || opts.suggested)) {
    throw new UsageError('--mine cannot be combined with --reviewable or --suggested');
  }
  if (opts.reviewed && (opts.mine || opts.reviewable || opts.suggested)) {
    throw new UsageError('--reviewed cannot be combined with --mine, --reviewable or --suggested');
  }
  return opts;
}

/**
 * What to say when nothing is listed: how to create a request to someone who may request
 * roles; to an identity that may not (a plugin, a reviewer), how to see requests as they come.
 */
async function emptyListHint(ctx: Context, conn: Connection, me: string): Promise<string> {
  const { getCapabilities } = await import('../../client/resources.js');
  const caps = await getCapabilities(conn, me, { requestableRoles: true }, callOpts(ctx)).catch(
    () => undefined,
  );
  if (caps && caps.requestable_roles.length === 0) {
    return 'hint: no access requests yet; `access request watch` shows new ones as they are made';
  }
  return 'hint: no access requests; create one with `access request create --roles <role> --reason <reason>`';
}

export async function run(ctx: Context, opts: LsOptions): Promise<number> {
  const matches = await requestCondition(opts.condition);
  const conn = await ctx.connect();
  const me = conn.identity.username;
  const scope = opts.mine
    ? 'mine'
    : opts.reviewable || opts.suggested
      ? 'needs-review'
      : opts.reviewed
        ? 'reviewed'
        : 'all';
  const now = ctx.now();
  // tctl and tsh leave out requests whose access has already expired.
  const live = (r: AccessRequest) =>
    opts.all || r.access_expires === null || Date.parse(r.access_expires) > now.getTime();
  const keep = (r: AccessRequest) =>
    live(r) && (!opts.suggested || r.suggested_reviewers.includes(me)) && matches(r);

  const structured =
    ctx.format === 'text' ? undefined : await structuredListWriter<AccessRequest>(ctx.io, ctx.format);
  const table = ctx.format === 'text' ? tableWriter(ctx.io, REQUEST_COLUMNS, REQUEST_TABLE) : undefined;
  let cutReason = false;
  let shown = 0;
  let rows: string[][] = [];
  const full = () => opts.limit !== undefined && shown >= opts.limit;
  // Each page is filtered and written (JSON/YAML) or turned into rows (text) in the callback
  // that read it, so no page outlives it (PageSink in client/list.ts).
  const consume = (page: AccessRequest[]): boolean => {
    const reqs: AccessRequest[] = [];
    for (const req of page) {
      if (full()) break;
      if (!keep(req)) continue;
      shown++;
      if (structured) reqs.push(req);
      else {
        const row = requestRow(req, now, ctx.io.stdoutIsTTY);
        cutReason ||= row.cutReason;
        rows.push(row.cells);
      }
    }
    structured?.add(reqs);
    return !full();
  };
  const between = async () => {
    await structured?.drain();
    await table?.add(rows);
    rows = [];
  };
  const { requestPages } = await import('../../client/list.js');
  await requestPages(
    conn,
    {
      user: opts.user,
      state: opts.state,
      scope,
      search: opts.search,
      sort: opts.sort,
      descending: !opts.ascending,
    },
    // --suggested and expired requests drop rows after the server's limit, so the server cannot cut the list.
    { pageSize: PAGE_SIZE, limit: opts.suggested || !opts.all ? undefined : opts.limit, call: callOpts(ctx) },
    { consume, between },
  );
  await between();

  if (structured) {
    structured.end();
    return 0;
  }
  const columnsShown = (await table?.end()) ?? [];
  if (cutReason && columnsShown.includes(REASON_COLUMN)) note(ctx, REASON_FOOTNOTE);
  if (shown === 0) {
    note(ctx, await emptyListHint(ctx, conn, me));
  } else {
    note(ctx, 'hint: use `access request show <id>` for details');
  }
  return 0;
}
