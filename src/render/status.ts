import type { Status } from '../model/status.js';
import { escapeControls } from './escape.js';
import { formatKeyValues, type KeyValue } from './table.js';
import { formatRelative, formatUtc } from './time.js';

const SOURCES: Record<Status['credentials']['kind'], string> = {
  'identity-file': 'identity file',
  'tls-trio': 'TLS files (read-only)',
  'tsh-profile': 'tsh profile',
};

/** `2026-11-21 18:00:00 UTC` over `(in 7h59m)`: two short lines rather than one long one. */
function when(iso: string | null, now: Date): string[] {
  if (!iso) return ['never'];
  const d = new Date(iso);
  return [formatUtc(d), `(${formatRelative(d, now)})`];
}

/**
 * `access status` for people, as tsh status shows it: a `Key: value` block with short keys and
 * one item a line, then one block per assumed request headed by its ID. On a terminal `width`
 * is its columns: values wrap to it (a long credentials path too), as every table does.
 */
export function statusText(s: Status, now: Date, width?: number): string {
  const pairs: [string, KeyValue][] = [
    ['User', s.user],
    ['Cluster', s.cluster],
    ['Roles', s.roles.length > 0 ? s.roles : ['[none]']],
    ['Expires', when(s.cert_expires, now)],
    ['Source', [SOURCES[s.credentials.kind], s.credentials.path]],
  ];
  if (s.impersonator) pairs.push(['Issuer', [s.impersonator, '(cannot assume requests)']]);
  if (s.allowed_resources.length > 0) pairs.push(['Limited', s.allowed_resources]);
  const out = [formatKeyValues(pairs, width)];
  if (s.active_requests.length === 0) {
    out.push('Requests: [none assumed]');
  } else {
    out.push('Assumed requests:');
    for (const r of s.active_requests) {
      out.push(`  ${escapeControls(r.id)}`);
      const detail: [string, KeyValue][] = [['State', r.state ?? 'gone from the server']];
      if (r.roles.length > 0) detail.push(['Roles', r.roles]);
      if (r.resources.length > 0) detail.push(['Access', r.resources]);
      if (r.access_expires) detail.push(['Until', when(r.access_expires, now)]);
      out.push(
        formatKeyValues(detail, width === undefined ? undefined : width - 4)
          .split('\n')
          .map((line) => `    ${line}`)
          .join('\n'),
      );
    }
  }
  return `${out.join('\n')}\n`;
}
