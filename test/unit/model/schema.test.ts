import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import type { RequestLock } from '../../../src/model/lock.js';
import {
  type AccessRequest,
  type Capabilities,
  newAccessRequest,
  type WatchEvent,
} from '../../../src/model/request.js';
import {
  type ActionResult,
  type DropResult,
  type RmResult,
  SCHEMAS,
  type SchemaName,
  type SignHelperResult,
  schemaDoc,
} from '../../../src/model/schema.js';
import { newSearchResult, type SearchResult } from '../../../src/model/search.js';
import type { Status } from '../../../src/model/status.js';

const request: AccessRequest = newAccessRequest({
  id: '0193c1e2-7f00-7000-8000-000000000001',
  user: 'alice',
  roles: ['dba'],
  resources: ['/local/node/8c3a'],
  state: 'APPROVED',
  reason: 'ticket 42',
  resolve_reason: 'ok',
  suggested_reviewers: ['bob'],
  created: '2026-11-21T10:00:00Z',
  expires: '2026-11-28T10:00:00Z',
  access_expires: '2026-11-21T18:00:00Z',
  session_expires: '2026-11-21T18:00:00Z',
  max_duration: '2026-11-22T10:00:00.500Z',
  thresholds: [{ name: 'default', approve: 1, deny: 1 }],
  reviews: [{ author: 'bob', state: 'APPROVED', reason: 'ok', created: '2026-11-21T10:01:00Z' }],
  annotations: { ticket: ['42'] },
  system_annotations: {},
});

const search: SearchResult[] = [
  newSearchResult({
    kind: 'node',
    name: 'n1',
    hostname: 'web-1',
    labels: { env: 'prod' },
    resource_id: '/c/node/n1',
  }),
];
const watchEvents: WatchEvent[] = [
  { type: 'init', request: null, id: '' },
  { type: 'put', request, id: request.id },
  { type: 'delete', request: null, id: request.id },
];
const caps: Capabilities = {
  requestable_roles: ['dba'],
  suggested_reviewers: ['bob'],
  applicable_roles: [],
  request_prompt: '',
  require_reason: true,
  auto_request: false,
};
const actions: ActionResult[] = [
  { id: 'r1', ok: true, state: 'APPROVED', error: null },
  { id: 'r2', ok: false, state: null, error: 'access request "r2" not found' },
];
const drop: DropResult = { dropped: ['r1'], active_requests: [], roles: ['access'], locked: [] };
const rm: RmResult = { deleted: ['r1'], locked: ['access-request-r1'] };
const lock: RequestLock = {
  name: 'access-request-r1',
  access_request: 'r1',
  message: '',
  expires: null,
  created: '2026-11-21T10:00:00Z',
  created_by: 'admin',
  in_force: true,
};
const signed: SignHelperResult = {
  files: ['out.crt', 'out.key', 'out.cas'],
  user: 'bot',
  expires: '2026-11-21T22:00:00Z',
};

const status: Status = {
  user: 'alice',
  cluster: 'local',
  roles: ['requester', 'dba'],
  active_requests: [
    { id: 'r1', state: 'APPROVED', roles: ['dba'], resources: [], access_expires: '2026-11-21T18:00:00Z' },
  ],
  allowed_resources: [],
  cert_expires: '2026-11-21T18:00:00Z',
  impersonator: null,
  credentials: { kind: 'identity-file', path: '/tmp/alice.pem', writable: true },
};

/** A valid sample and a sample that must fail, per schema. */
const samples: Record<SchemaName, { valid: unknown[]; invalid: unknown[] }> = {
  request: {
    valid: [request, newAccessRequest({ id: 'x' })],
    invalid: [
      { ...request, state: 2 },
      { ...request, extra: true },
      { ...request, created: '2026-11-21T10:00:00+02:00' },
      (() => {
        const { reviews: _, ...rest } = request;
        return rest;
      })(),
      { ...request, reviews: [{ ...request.reviews[0], state: 'OK' }] },
    ],
  },
  'dry-run': {
    valid: [
      { ...request, reason_mode: 'required', reason_prompts: ['Name the ticket'] },
      { ...request, reason_mode: 'optional', reason_prompts: [] },
    ],
    invalid: [
      request,
      { ...request, reason_mode: 'maybe', reason_prompts: [] },
      { ...request, reason_mode: 'optional', reason_prompts: 'x' },
    ],
  },
  requests: { valid: [[request], []], invalid: [request, [{ id: 'x' }]] },
  'search-results': {
    valid: [search, []],
    invalid: [[{ ...search[0], labels: { env: ['prod'] } }], [{ ...search[0], resource_id: undefined }]],
  },
  'watch-event': {
    valid: watchEvents,
    invalid: [
      { type: 'INIT', request: null, id: '' },
      { type: 'put', request: { id: 'x' }, id: 'x' },
    ],
  },
  capabilities: { valid: [caps], invalid: [{ ...caps, require_reason: 'yes' }] },
  'action-results': {
    valid: [actions],
    invalid: [[{ id: 'r1', ok: true }], [{ ...actions[0], state: 'DONE' }]],
  },
  roles: { valid: [['auditor', 'dba'], []], invalid: [[1], 'dba'] },
  'requestable-roles': {
    valid: [[{ role: 'dba', description: 'Database administration' }], []],
    invalid: [['dba'], [{ role: 'dba' }], [{ role: 'dba', description: '', extra: 1 }]],
  },
  'drop-result': { valid: [drop], invalid: [{ dropped: [] }] },
  'rm-result': { valid: [rm], invalid: [{ deleted: 'r1' }] },
  'sign-helper-result': { valid: [signed], invalid: [{ ...signed, expires: null }] },
  lock: {
    valid: [lock, { ...lock, expires: '2026-11-21T11:00:00Z', in_force: false }],
    invalid: [
      { ...lock, in_force: 'yes' },
      { ...lock, expires: 0 },
    ],
  },
  locks: { valid: [[lock], []], invalid: [lock, [{ name: 'x' }]] },
  'lock-rm-result': { valid: [{ deleted: ['x'] }], invalid: [{ deleted: 'x' }] },
  status: {
    valid: [
      status,
      {
        ...status,
        active_requests: [{ id: 'gone', state: null, roles: [], resources: [], access_expires: null }],
      },
    ],
    invalid: [
      { ...status, cert_expires: null },
      { ...status, credentials: { ...status.credentials, kind: 'kubeconfig' } },
      { ...status, active_requests: [{ ...status.active_requests[0], state: 'OK' }] },
    ],
  },
};

describe('output schemas', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });

  it('has samples for every schema', () => {
    expect(Object.keys(samples).sort()).toEqual(Object.keys(SCHEMAS).sort());
  });

  it.each(Object.keys(SCHEMAS) as SchemaName[])(
    '%s compiles, accepts its sample and rejects drift',
    (name) => {
      const validate = ajv.compile(SCHEMAS[name]);
      for (const value of samples[name].valid) {
        const ok = validate(JSON.parse(JSON.stringify(value)));
        expect(validate.errors ?? []).toEqual([]);
        expect(ok).toBe(true);
      }
      for (const value of samples[name].invalid) {
        expect(validate(JSON.parse(JSON.stringify(value)))).toBe(false);
      }
    },
  );

  it('requires every property of every object and forbids extras', () => {
    const check = (s: Record<string, unknown>, path: string): void => {
      if (s.properties) {
        expect(s.required, path).toEqual(Object.keys(s.properties));
        expect(s.additionalProperties, path).toBe(false);
        for (const [k, v] of Object.entries(s.properties))
          check(v as Record<string, unknown>, `${path}.${k}`);
      }
      if (s.items) check(s.items as Record<string, unknown>, `${path}[]`);
      for (const x of (s.anyOf as Record<string, unknown>[] | undefined) ?? []) check(x, `${path}|`);
    };
    for (const [name, schema] of Object.entries(SCHEMAS)) check(schema, name);
  });

  it('lists request fields in the documented key order', () => {
    const props = Object.keys(SCHEMAS.request.properties ?? {});
    expect(props).toEqual(Object.keys(request));
  });
});

describe('schemaDoc', () => {
  const doc = schemaDoc();

  it('describes every output and every request field', () => {
    for (const name of Object.keys(SCHEMAS)) expect(doc).toContain(`\n${name}: `);
    for (const field of Object.keys(request)) expect(doc).toMatch(new RegExp(`\\n  ${field} +`));
    expect(doc).toMatch(/\n {2}state +state name +NONE, PENDING, APPROVED, DENIED or PROMOTED/);
    expect(doc).toMatch(/\n {2}request +AccessRequest or null +/);
    expect(doc.endsWith('\n')).toBe(true);
  });
});
