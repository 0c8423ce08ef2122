import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/model/errors.js';
import {
  ACCESS_REQUEST_KEYS,
  approvalProgress,
  approvalProgressText,
  newAccessRequest,
  newReview,
  REVIEW_KEYS,
  stateName,
  stateNumber,
} from '../../../src/model/request.js';
import { isSearchKind, newSearchResult, parseSearchKind, SEARCH_KINDS } from '../../../src/model/search.js';

describe('request states', () => {
  it('maps wire numbers to names', () => {
    expect([0, 1, 2, 3, 4].map(stateName)).toEqual(['NONE', 'PENDING', 'APPROVED', 'DENIED', 'PROMOTED']);
  });

  it('reads unknown numbers as NONE', () => {
    expect(stateName(-1)).toBe('NONE');
    expect(stateName(5)).toBe('NONE');
    expect(stateName(1.5)).toBe('NONE');
  });

  it('maps names to numbers case-insensitively', () => {
    expect(stateNumber('PENDING')).toBe(1);
    expect(stateNumber('approved')).toBe(2);
    expect(stateNumber('Denied')).toBe(3);
    expect(stateNumber('promoted')).toBe(4);
    expect(stateNumber('none')).toBe(0);
  });

  it('rejects an unknown name with the list', () => {
    expect(() => stateNumber('open')).toThrow(UsageError);
    expect(() => stateNumber('open')).toThrow(
      'unknown request state "open" (one of NONE, PENDING, APPROVED, DENIED, PROMOTED)',
    );
    expect(() => stateNumber('1')).toThrow(UsageError);
  });
});

describe('newAccessRequest', () => {
  it('emits keys in the spec order whatever order the fields were given in', () => {
    const req = newAccessRequest({
      system_annotations: {},
      reviews: [{ roles: [], created: null, state: 'APPROVED', author: 'bob' }],
      state: 'PENDING',
      id: 'r1',
    });
    expect(Object.keys(req)).toEqual([...ACCESS_REQUEST_KEYS]);
    expect(Object.keys(req.reviews[0])).toEqual([...REVIEW_KEYS]);
  });

  it('places the additive fields after access_expires, as the spec order requires', () => {
    const spec = [
      'id',
      'user',
      'roles',
      'resources',
      'state',
      'reason',
      'resolve_reason',
      'suggested_reviewers',
      'created',
      'expires',
      'access_expires',
      'assume_start_time',
      'thresholds',
      'reviews',
      'annotations',
      'system_annotations',
    ];
    expect(ACCESS_REQUEST_KEYS.filter((k) => spec.includes(k))).toEqual(spec);
    expect(ACCESS_REQUEST_KEYS.indexOf('session_expires')).toBe(
      ACCESS_REQUEST_KEYS.indexOf('access_expires') + 1,
    );
    expect(ACCESS_REQUEST_KEYS.indexOf('max_duration')).toBe(
      ACCESS_REQUEST_KEYS.indexOf('access_expires') + 2,
    );
  });

  it('fills empty values', () => {
    expect(newAccessRequest({ id: 'r1' })).toEqual({
      id: 'r1',
      user: '',
      roles: [],
      resources: [],
      state: 'NONE',
      reason: '',
      resolve_reason: '',
      suggested_reviewers: [],
      created: null,
      expires: null,
      access_expires: null,
      session_expires: null,
      max_duration: null,
      assume_start_time: null,
      thresholds: [],
      reviews: [],
      annotations: {},
      system_annotations: {},
    });
  });

  it('serializes to the documented JSON text', () => {
    const req = newAccessRequest({
      id: 'r1',
      user: 'alice',
      roles: ['dba'],
      state: 'PENDING',
      thresholds: [{ name: 'default', approve: 1, deny: 1 }],
    });
    const json = JSON.stringify(req);
    expect(
      json.startsWith('{"id":"r1","user":"alice","roles":["dba"],"resources":[],"state":"PENDING",'),
    ).toBe(true);
    expect(json).toContain('"thresholds":[{"name":"default","approve":1,"deny":1}]');
  });

  it('newReview fills defaults in order', () => {
    expect(JSON.stringify(newReview({ state: 'DENIED', author: 'bob' }))).toBe(
      '{"author":"bob","state":"DENIED","reason":"","created":null,"roles":[],"annotations":{},"assume_start_time":null}',
    );
  });
});

describe('approvalProgress', () => {
  const review = (state: 'APPROVED' | 'DENIED', author: string) => newReview({ author, state });

  it('defaults to needing one approval and one denial', () => {
    expect(approvalProgress({ reviews: [], thresholds: [] })).toEqual({
      approvals: 0,
      denials: 0,
      approveNeeded: 1,
      denyNeeded: 1,
    });
  });

  it('counts reviews against the largest threshold', () => {
    expect(
      approvalProgress({
        reviews: [review('APPROVED', 'a'), review('DENIED', 'b'), review('APPROVED', 'c')],
        thresholds: [
          { name: 'default', approve: 1, deny: 1 },
          { name: 'prod', approve: 3, deny: 2 },
        ],
      }),
    ).toEqual({ approvals: 2, denials: 1, approveNeeded: 3, denyNeeded: 2 });
  });

  it('treats a zero threshold as one', () => {
    expect(approvalProgress({ reviews: [], thresholds: [{ name: 'x', approve: 0, deny: 0 }] })).toMatchObject(
      {
        approveNeeded: 1,
        denyNeeded: 1,
      },
    );
  });
});

describe('search', () => {
  it('lists the documented kinds', () => {
    expect([...SEARCH_KINDS]).toEqual([
      'node',
      'db',
      'app',
      'kube_cluster',
      'windows_desktop',
      'kube_resource',
      'user_group',
      'saml_idp_service_provider',
      'aws_ic_account',
      'aws_ic_account_assignment',
    ]);
    expect(isSearchKind('db')).toBe(true);
    expect(isSearchKind('git_server')).toBe(false);
  });

  it('validates --kind', () => {
    expect(parseSearchKind('node')).toBe('node');
    expect(() => parseSearchKind('nodes')).toThrow(
      'invalid --kind "nodes": expected one of node, db, app, kube_cluster, windows_desktop, kube_resource, user_group, saml_idp_service_provider, aws_ic_account, aws_ic_account_assignment',
    );
  });

  it('builds results with keys in the documented order', () => {
    const r = newSearchResult({ resource_id: '/c/node/x', labels: { env: 'prod' }, name: 'x', kind: 'node' });
    expect(Object.keys(r)).toEqual(['kind', 'name', 'hostname', 'namespace', 'labels', 'resource_id']);
    expect(r).toEqual({
      kind: 'node',
      name: 'x',
      hostname: '',
      namespace: '',
      labels: { env: 'prod' },
      resource_id: '/c/node/x',
    });
  });
});

describe('approvalProgressText', () => {
  const review = (state: 'APPROVED' | 'DENIED', author: string) => newReview({ author, state });
  const two = [{ name: 'two', approve: 2, deny: 2 }];

  it('words the progress as the spinner, show and MCP progress say it', () => {
    expect(approvalProgressText({ reviews: [], thresholds: [] })).toBe('0 of 1 approval');
    expect(approvalProgressText({ reviews: [review('APPROVED', 'bob')], thresholds: two })).toBe(
      '1 of 2 approvals',
    );
    expect(
      approvalProgressText({
        reviews: [review('APPROVED', 'bob'), review('DENIED', 'carol')],
        thresholds: two,
      }),
    ).toBe('1 of 2 approvals, 1 of 2 denials');
  });
});
