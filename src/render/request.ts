import { type AccessRequest, approvalProgress, approvalProgressText } from '../model/request.js';
import { escapeControls } from './escape.js';
import { formatKeyValues, type KeyValue, truncateCell } from './table.js';
import { formatRelative, formatRfc822, formatTtl, formatUtc } from './time.js';

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

/** Index of the Reason column: the one cut or wrapped to fit a terminal. */
export const REASON_COLUMN = REQUEST_COLUMNS.indexOf('Reason');
/** Index of the State column, coloured on a TTY. */
export const STATE_COLUMN = REQUEST_COLUMNS.indexOf('State');
/** Which `ls` columns stay on a narrow terminal, most important first; the ID always stays. */
export const REQUEST_COLUMN_PRIORITY = (
  [
    'User',
    'Roles',
    'State',
    'Approvals',
    'Reason',
    'Reviewed By',
    'Access TTL',
    'Request TTL',
    'Resources',
    'Created At (UTC)',
  ] as const
).map((c) => REQUEST_COLUMNS.indexOf(c));

/** Cut widths on a TTY, as tctl cuts them. */
const RESOURCES_WIDTH = 20;
const REASON_WIDTH = 75;

export const RESOURCES_FOOTNOTE =
  '[+] Requested resources truncated, use `access request show <id>` to view the full list';
export const REASON_FOOTNOTE =
  '[*] Full reason was truncated, use `access request show <id>` to view the full reason';

function parse(iso: string | null): Date | undefined {
  return iso === null ? undefined : new Date(iso);
}

/** One `ls` row. On a TTY long resource lists and reasons are cut and marked; `cut` tells which. */
export function requestRow(
  req: AccessRequest,
  now: Date,
  tty: boolean,
): { cells: string[]; cutResources: boolean; cutReason: boolean } {
  let resources = req.resources.join(',');
  let reason = req.reason === '' ? '' : JSON.stringify(req.reason);
  let cutResources = false;
  let cutReason = false;
  if (tty) {
    ({ text: resources, cut: cutResources } = truncateCell(resources, RESOURCES_WIDTH, '[+]'));
    ({ text: reason, cut: cutReason } = truncateCell(reason, REASON_WIDTH, '[*]'));
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
    cutResources,
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
 */
export function requestDetail(
  req: AccessRequest,
  now: Date,
  hostnames?: ReadonlyMap<string, string>,
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
  let out = formatKeyValues(pairs);
  if (req.reviews.length > 0) {
    const lines = req.reviews.map((r) => {
      const when = parse(r.created);
      const parts = [`${r.author}: ${r.state}`];
      if (when) parts.push(`at ${formatUtc(when)}`);
      if (r.roles.length > 0) parts.push(`as ${r.roles.join(', ')}`);
      if (r.reason !== '') parts.push(`reason ${JSON.stringify(r.reason)}`);
      if (r.assume_start_time) parts.push(`start ${r.assume_start_time}`);
      return `  ${escapeControls(parts.join(', '))}`;
    });
    out += `\nReviews:\n${lines.join('\n')}`;
  }
  return `${out}\n`;
}
