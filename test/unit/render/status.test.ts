import { describe, expect, it } from 'vitest';
import type { Status } from '../../../src/model/status.js';
import { statusText } from '../../../src/render/status.js';

const NOW = new Date('2026-11-21T10:00:00Z');
const ID = '0193c1e2-7b3a-7c4d-9e5f-0a1b2c3d4e5f';

const status: Status = {
  user: 'alice',
  cluster: 'local',
  roles: ['dba', 'requester'],
  active_requests: [
    { id: ID, state: 'APPROVED', roles: ['dba'], resources: [], access_expires: '2026-11-21T18:00:00Z' },
    { id: 'gone-request', state: null, roles: [], resources: [], access_expires: null },
  ],
  allowed_resources: [],
  cert_expires: '2026-11-21T18:00:00Z',
  impersonator: null,
  credentials: { kind: 'tls-trio', path: '/c.crt', writable: false },
};

describe('statusText', () => {
  it('is key: value lines, then one block per assumed request, each line within 40 columns', () => {
    const text = statusText(status, NOW);
    expect(text).toBe(
      [
        'User:    alice',
        'Cluster: local',
        'Roles:   dba',
        '         requester',
        'Expires: 2026-11-21 18:00:00 UTC',
        '         (in 8h)',
        'Source:  TLS files (read-only)',
        '         /c.crt',
        'Assumed requests:',
        `  ${ID}`,
        '    State: APPROVED',
        '    Roles: dba',
        '    Until: 2026-11-21 18:00:00 UTC',
        '           (in 8h)',
        '  gone-request',
        '    State: gone from the server',
        '',
      ].join('\n'),
    );
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(40);
  });

  it('names an impersonating issuer, which cannot assume requests', () => {
    const text = statusText({ ...status, impersonator: 'admin', active_requests: [] }, NOW);
    expect(text).toContain('Issuer:  admin\n         (cannot assume requests)\n');
    expect(text).toContain('Requests: [none assumed]\n');
  });
});
