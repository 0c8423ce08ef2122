import { describe, expect, it } from 'vitest';
import { type AccessRequest, newAccessRequest } from '../../../src/model/request.js';
import { findReusable } from '../../../src/model/request-reuse.js';

const NOW = new Date('2026-11-21T10:00:00Z');
const LATER = '2026-11-21T18:00:00Z';
const EARLIER = '2026-11-21T09:00:00Z';
const NODE = '/c/node/web';

function req(id: string, over: Partial<AccessRequest> = {}): AccessRequest {
  return newAccessRequest({
    id,
    user: 'alice',
    roles: ['dba'],
    state: 'PENDING',
    created: '2026-11-21T08:00:00Z',
    expires: LATER,
    access_expires: LATER,
    ...over,
  });
}

const DBA = { user: 'alice', roles: ['dba'], resources: [] };

describe('findReusable', () => {
  it('prefers an approved request to a pending one, then the newest', () => {
    const requests = [
      req('pending-new', { created: '2026-11-21T09:30:00Z' }),
      req('approved-old', { state: 'APPROVED', created: '2026-11-21T07:00:00Z' }),
      req('approved-new', { state: 'APPROVED', created: '2026-11-21T08:30:00Z' }),
    ];
    expect(findReusable(requests, DBA, NOW)?.id).toBe('approved-new');
    expect(findReusable(requests.slice(0, 1), DBA, NOW)?.id).toBe('pending-new');
  });

  it('skips requests that cannot give access now', () => {
    const unusable = [
      req('denied', { state: 'DENIED' }),
      req('promoted', { state: 'PROMOTED' }),
      req('pending-lapsed', { expires: EARLIER }),
      req('access-over', { state: 'APPROVED', access_expires: EARLIER }),
      req('starts-later', { state: 'APPROVED', assume_start_time: LATER }),
    ];
    expect(findReusable(unusable, DBA, NOW)).toBeUndefined();
    expect(
      findReusable([req('started', { state: 'APPROVED', assume_start_time: EARLIER })], DBA, NOW)?.id,
    ).toBe('started');
  });

  it('wants exactly the same roles and resources, of the same user', () => {
    const others = [
      req('more-roles', { roles: ['dba', 'auditor'] }),
      req('bob', { user: 'bob' }),
      req('with-resource', { resources: [NODE] }),
    ];
    expect(findReusable(others, DBA, NOW)).toBeUndefined();
    expect(findReusable([req('same', { roles: ['dba', 'dba'] })], DBA, NOW)?.id).toBe('same');
  });

  it('a resource request matches on its resources; the roles the server chose are not compared', () => {
    const r = req('res', { roles: ['node-access'], resources: [NODE] });
    expect(findReusable([r], { user: 'alice', roles: [], resources: [NODE] }, NOW)?.id).toBe('res');
    expect(findReusable([r], { user: 'alice', roles: ['dba'], resources: [NODE] }, NOW)).toBeUndefined();
    expect(findReusable([r], { user: 'alice', roles: [], resources: ['/c/node/db'] }, NOW)).toBeUndefined();
  });
});
