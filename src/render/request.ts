import { type AccessRequest, approvalProgress, approvalProgressText } from '../model/request.js';
import { escapeControls } from './escape.js';
import { formatKeyValues, type KeyValue, type TableOptions } from './table.js';
import { formatRelative, formatRfc822, formatTtl, formatUtc } from './time.js';
import { wrapWords } from './wrap.js';

/** Columns of `access request ls`, in order. */
export const REQUEST_COLUMNS = [
  'ID',
  'User',
  'Roles',
  'Resources',
  'Created At (UTC)',
  'Request TTL',
  'Access TTL',
  'State',
  'Approvals',
  'Reviewed By',
  'Reason',
] as const;

/** Index of the Reason column: the one wrapped between words to fit a terminal. */
export const REASON_COLUMN = REQUEST_COLUMNS.indexOf('Reason');
/** Index of the State column, coloured on a TTY. */
export const STATE_COLUMN = REQUEST_COLUMNS.indexOf('State');

/**
 * How `ls` fits a terminal (issue 23): columns by priority, the ID always whole, then state,
 * user, what is requested, approvals, created and the reason, which wraps to the room left;
 * the reviewers and the TTLs only on wide terminals. Narrower than ID, state and user, one
 * block per request.
 */
export const REQUEST_TABLE: TableOptions = {
  priority: (
    [
      'ID',
      'State',
      'User',
      'Roles',
      'Resources',
      'Approvals',
      'Created At (UTC)',
      'Reason',
      'Reviewed By',
      'Access TTL',
      'Request TTL',
    ] as const
  ).map((c) => REQUEST_COLUMNS.indexOf(c)),
  required: 3,
  wrap: REASON_COLUMN,
  lists: (['Roles', 'Resources', 'Reviewed By'] as const).map((c) => REQUEST_COLUMNS.indexOf(c)),
  stateColumn: STATE_COLUMN,
};

/** Reasons are cut at this width on a TTY, as tctl cuts them. */
const REASON_WIDTH = 75;

export const REASON_FOOTNOTE =
  '[*] Full reason was truncated, use `access request show <id>` to view the full reason';

function parse(iso: string | null): Date | undefined {
  return iso === null ? undefined : new Date(iso);
}

/**
 * One `ls` row. On a TTY a long reason is cut and marked `[*]` (`cutReason`); resources are
 * never cut: the table shows each whole, one a line, or leaves the column out.
 */
export function requestRow(
  req: AccessRequest,
  now: Date,
  tty: boolean,
): { cells: string[]; cutReason: boolean } {
  const resources = req.resources.join(',');
  let reason = req.reason === '' ? '' : JSON.stringify(req.reason);
  let cutReason = false;
  if (tty && reason.length > REASON_WIDTH) {
    // Cut between words where there is one, so no word is shown in part.
    const room = reason.slice(0, REASON_WIDTH - 3);
    const space = room.lastIndexOf(' ');
    reason = `${space > 0 ? room.slice(0, space) : room.slice(0, -1)} [*]`;
    cutReason = true;
  }
  const created = parse(req.created);
  return {
    cells: [
      req.id,
      req.user,
      req.roles.join(','),
      resources,
      created ? formatRfc822(created) : '',
      req.state === 'PENDING' ? formatTtl(parse(req.expires), now) : '',
      formatTtl(parse(req.access_expires), now),
      req.state,
      approvalsCell(req),
      req.reviews.map((r) => r.author).join(','),
      reason,
    ],
    cutReason,
  };
}

/** How close a request is: approvals given out of those needed, e.g. `1/2`. */
export function approvalsCell(req: AccessRequest): string {
  const p = approvalProgress(req);
  return `${p.approvals}/${p.approveNeeded}`;
}

function timeLine(iso: string | null, now: Date): string {
  const d = parse(iso);
  return d ? `${formatUtc(d)} (${formatRelative(d, now)})` : '';
}

function annotationLines(a: Record<string, string[]>): string[] {
  return Object.entries(a).map(([k, v]) => `${k}=${v.join(',')}`);
}

/** The state with threshold progress, e.g. `PENDING (1 of 2 approvals)`. */
export function stateSummary(req: AccessRequest): string {
  if (req.state !== 'PENDING') return req.state;
  return `PENDING (${approvalProgressText(req)})`;
}

/**
 * Every field of a request as a headless `Key: value` block (the `show` view).
 * `hostnames` maps node names (UUIDs) to hostnames, shown next to node resource IDs.
 * With a `width` (a terminal's) no line is wider: values wrap between words.
 */
export function requestDetail(
  req: AccessRequest,
  now: Date,
  hostnames?: ReadonlyMap<string, string>,
  width?: number,
): string {
  const resources = req.resources.map((id) => {
    const name = id.split('/')[3];
    const host = id.split('/')[2] === 'node' && name ? hostnames?.get(name) : undefined;
    return host ? `${id} (${host})` : id;
  });
  const pairs: [string, KeyValue][] = [
    ['ID', req.id],
    ['User', req.user],
    ['Roles', req.roles.join(', ') || '[none]'],
  ];
  if (req.resources.length > 0) pairs.push(['Resources', resources]);
  pairs.push(
    ['Reason', req.reason === '' ? '[none]' : JSON.stringify(req.reason)],
    ['Reviewers', `${req.suggested_reviewers.join(', ') || '[none]'} (suggested)`],
    ['State', stateSummary(req)],
  );
  if (req.resolve_reason !== '') pairs.push(['Resolve Reason', JSON.stringify(req.resolve_reason)]);
  pairs.push(['Created', timeLine(req.created, now)]);
  if (req.state === 'PENDING') pairs.push(['Request Expires', timeLine(req.expires, now)]);
  pairs.push(['Access Expires', timeLine(req.access_expires, now)]);
  if (req.max_duration) pairs.push(['Max Duration', timeLine(req.max_duration, now)]);
  if (req.assume_start_time) pairs.push(['Assume Start Time', timeLine(req.assume_start_time, now)]);
  if (req.thresholds.length > 0) {
    pairs.push([
      'Thresholds',
      req.thresholds.map((t) => `${t.name || 'default'}: approve ${t.approve}, deny ${t.deny}`),
    ]);
  }
  if (Object.keys(req.annotations).length > 0) pairs.push(['Annotations', annotationLines(req.annotations)]);
  if (Object.keys(req.system_annotations).length > 0) {
    pairs.push(['System Annotations', annotationLines(req.system_annotations)]);
  }
  let out = formatKeyValues(pairs, width);
  if (req.reviews.length > 0) {
    const lines = req.reviews.map((r) => {
      const when = parse(r.created);
      const parts = [`${r.author}: ${r.state}`];
      if (when) parts.push(`at ${formatUtc(when)}`);
      if (r.roles.length > 0) parts.push(`as ${r.roles.join(', ')}`);
      if (r.reason !== '') parts.push(`reason ${JSON.stringify(r.reason)}`);
      if (r.assume_start_time) parts.push(`start ${r.assume_start_time}`);
      const line = escapeControls(parts.join(', '));
      if (width === undefined) return `  ${line}`;
      return wrapWords(line, width - 4)
        .map((l, n) => `${n === 0 ? '  ' : '    '}${l}`)
        .join('\n');
    });
    out += `\nReviews:\n${lines.join('\n')}`;
  }
  return `${out}\n`;
}
