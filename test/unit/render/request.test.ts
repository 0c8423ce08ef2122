import { describe, expect, test } from 'vitest';
import { newAccessRequest } from '../../../src/model/request.js';
import { requestDetail, requestRow, stateSummary } from '../../../src/render/request.js';

const now = new Date('2026-11-21T10:30:00Z');
const req = newAccessRequest({
  id: '0193c1e2-aaaa-7bbb-8ccc-000000000001',
  user: 'alice',
  roles: ['dba'],
  resources: ['/local/node/8c3e2a6e-0c1e-4d6a-9a5b-0f9a2b1c3d4e', '/local/db/orders'],
  state: 'PENDING',
  reason: 'ticket 42',
  suggested_reviewers: ['bob'],
  created: '2026-11-21T10:00:00Z',
  expires: '2026-11-28T10:00:00Z',
  access_expires: '2026-11-21T18:00:00Z',
  thresholds: [{ name: 'default', approve: 2, deny: 1 }],
  reviews: [{ author: 'carol', state: 'APPROVED', reason: 'ok', created: '2026-11-21T10:01:00Z', roles: [] }],
  annotations: { ticket: ['42'] },
});

describe('request rendering', () => {
  test('an ls row: on a TTY only a long reason is cut, resources never', () => {
    const plain = requestRow(req, now, false);
    expect(plain.cells).toEqual([
      req.id,
      'alice',
      'dba',
      '/local/node/8c3e2a6e-0c1e-4d6a-9a5b-0f9a2b1c3d4e,/local/db/orders',
      '21 Nov 26 10:00 UTC',
      '6d23h',
      '7h30m',
      'PENDING',
      '1/2',
      'carol',
      '"ticket 42"',
    ]);
    const tty = requestRow(req, now, true);
    expect(tty.cells).toEqual(plain.cells);
    expect(tty.cutReason).toBe(false);
    const long = requestRow({ ...req, reason: 'words '.repeat(30).trim() }, now, true);
    expect(long.cutReason).toBe(true);
    // Cut between words: 11 whole words and the mark, within tctl's 75 characters.
    expect(long.cells[10]).toBe(`"${'words '.repeat(11)}[*]`);
    expect(long.cells[10].length).toBeLessThanOrEqual(75);
  });

  test('the detail view at 40 columns: no line wider, the ID whole, values wrapped between words', () => {
    const long = { ...req, reason: 'rotate the orders database credentials after the incident' };
    const lines = requestDetail(long, now, undefined, 40).trimEnd().split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
    expect(lines[0]).toBe(`ID: ${req.id}`);
    const text = lines.join(' ');
    for (const word of long.reason.split(' ')) expect(text).toMatch(new RegExp(`[ "]${word}[ "]`));
    expect(lines).toContain('  8c3e2a6e-0c1e-4d6a-9a5b-0f9a2b1c3d4e');
  });

  test('threshold progress', () => {
    expect(stateSummary(req)).toBe('PENDING (1 of 2 approvals)');
    expect(stateSummary({ ...req, state: 'DENIED' })).toBe('DENIED');
  });

  test('the detail view shows every field, node hostnames and reviews', () => {
    const text = requestDetail(req, now, new Map([['8c3e2a6e-0c1e-4d6a-9a5b-0f9a2b1c3d4e', 'web-1']]));
    expect(text).toBe(
      [
        `ID:              ${req.id}`,
        'User:            alice',
        'Roles:           dba',
        'Resources:       /local/node/8c3e2a6e-0c1e-4d6a-9a5b-0f9a2b1c3d4e (web-1)',
        '                 /local/db/orders',
        'Reason:          "ticket 42"',
        'Reviewers:       bob (suggested)',
        'State:           PENDING (1 of 2 approvals)',
        'Created:         2026-11-21 10:00:00 UTC (30m ago)',
        'Request Expires: 2026-11-28 10:00:00 UTC (in 6d23h)',
        'Access Expires:  2026-11-21 18:00:00 UTC (in 7h30m)',
        'Thresholds:      default: approve 2, deny 1',
        'Annotations:     ticket=42',
        'Reviews:',
        '  carol: APPROVED, at 2026-11-21 10:01:00 UTC, reason "ok"',
        '',
      ].join('\n'),
    );
  });
});
