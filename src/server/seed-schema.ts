/**
 * The seed's schema: the fields each resource kind may have, and the strict validation of a
 * document against it (unknown fields, wrong types, bad durations and matchers are errors
 * naming the field).
 */
import { parseDuration } from '../model/duration.js';
import { compilePredicate } from '../model/predicate/compile.js';
import { checkSelectorValue } from './resource-access.js';
import { reviewEnv } from './review-env.js';
import { compileRoleMatcher } from './role-matchers.js';

export class FieldError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

type Schema =
  | { t: 'string' }
  | { t: 'int' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'strings' }
  | { t: 'matchers' }
  | { t: 'duration' }
  | { t: 'stringMap' }
  | { t: 'selector' }
  | { t: 'listMap' }
  | { t: 'predicate'; env: 'where' | 'filter' }
  | { t: 'list'; item: Schema }
  | { t: 'object'; fields: Readonly<Record<string, Schema>>; required?: readonly string[] };

const str: Schema = { t: 'string' };
const strings: Schema = { t: 'strings' };
const matchers: Schema = { t: 'matchers' };
const selector: Schema = { t: 'selector' };
const obj = (fields: Record<string, Schema>, required?: string[]): Schema => ({
  t: 'object',
  fields,
  required,
});

const claimMapping = obj({ claim: str, value: str, roles: matchers }, ['claim', 'value', 'roles']);
const kubeMatcher = obj({ kind: str, api_group: str, namespace: str, name: str, verbs: strings }, ['kind']);

const conditions = obj({
  logins: strings,
  node_labels: selector,
  db_labels: selector,
  app_labels: selector,
  kubernetes_labels: selector,
  windows_desktop_labels: selector,
  group_labels: selector,
  kubernetes_resources: { t: 'list', item: kubeMatcher },
  request: obj({
    roles: matchers,
    claims_to_roles: { t: 'list', item: claimMapping },
    search_as_roles: strings,
    thresholds: {
      t: 'list',
      item: obj({
        name: str,
        filter: { t: 'predicate', env: 'filter' },
        approve: { t: 'int' },
        deny: { t: 'int' },
      }),
    },
    suggested_reviewers: strings,
    max_duration: { t: 'duration' },
    annotations: { t: 'listMap' },
    kubernetes_resources: { t: 'list', item: kubeMatcher },
    reason: obj({ mode: { t: 'enum', values: ['optional', 'required'] }, prompt: str }),
  }),
  review_requests: obj({
    roles: matchers,
    claims_to_roles: { t: 'list', item: claimMapping },
    where: { t: 'predicate', env: 'where' },
  }),
  rules: { t: 'list', item: obj({ resources: strings, verbs: strings }, ['resources', 'verbs']) },
  impersonate: obj({ users: matchers, roles: matchers }),
  account_assignments: { t: 'list', item: obj({ account: str, permission_set: str }) },
});

/** Values of Teleport's legacy `second_factor` and of `second_factors` (api/types/authentication.go). */
const SECOND_FACTOR = ['off', 'otp', 'webauthn', 'on', 'optional'] as const;
const SECOND_FACTORS = ['otp', 'webauthn', 'sso'] as const;

/** The label Teleport puts on a Machine ID bot's user (types.BotLabel). */
export const BOT_LABEL = 'teleport.internal/bot';

export const SPECS: Readonly<Record<string, Schema>> = {
  role: obj({
    options: obj({
      max_session_ttl: { t: 'duration' },
      request_access: { t: 'enum', values: ['optional', 'reason', 'always'] },
      request_prompt: str,
    }),
    allow: conditions,
    deny: conditions,
  }),
  user: obj({ roles: strings, traits: { t: 'listMap' } }, ['roles']),
  node: obj({ hostname: str, addr: str }, ['hostname']),
  db: obj({ protocol: str, uri: str }, ['protocol', 'uri']),
  app: obj({ uri: str, public_addr: str }, ['uri']),
  kube_cluster: obj({}),
  windows_desktop: obj({ addr: str, domain: str }, ['addr']),
  user_group: obj({ applications: strings }),
  saml_idp_service_provider: obj({ entity_id: str, acs_url: str }, ['entity_id']),
  // identitycenterv1.Account and AccountAssignment specs, reduced to what search and requests show.
  aws_ic_account: obj({ id: str, arn: str, name: str, description: str, start_url: str }, ['id']),
  aws_ic_account_assignment: obj(
    {
      display: str,
      account_id: str,
      account_name: str,
      permission_set: obj({ arn: str, name: str }, ['arn']),
    },
    ['account_id', 'permission_set'],
  ),
  cluster_auth_preference: obj({
    type: str,
    second_factor: { t: 'enum', values: SECOND_FACTOR },
    second_factors: { t: 'list', item: { t: 'enum', values: SECOND_FACTORS } },
  }),
  kube_resource: obj({ kind: str, api_group: str, namespace: str, kube_cluster: str }, [
    'kind',
    'kube_cluster',
  ]),
};

export const METADATA = obj(
  { name: str, description: str, labels: { t: 'stringMap' }, namespace: str, revision: str },
  ['name'],
);
export const DOCUMENT_FIELDS = ['kind', 'version', 'metadata', 'spec'];

const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalarString(v: unknown, path: string): string {
  if (typeof v === 'string') return v;
  // YAML reads `tier: 1` or `on: true` as non-strings; Teleport labels and traits are strings.
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new FieldError(path, 'expected a string');
}

function stringList(v: unknown, path: string): string[] {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) throw new FieldError(path, 'expected a list of strings');
  return v.map((item, i) => scalarString(item, `${path}[${i}]`));
}

export function validate(v: unknown, schema: Schema, path: string): unknown {
  switch (schema.t) {
    case 'string':
      return scalarString(v, path);
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
        throw new FieldError(path, 'expected a non-negative integer');
      }
      return v;
    case 'enum': {
      const s = scalarString(v, path);
      if (!schema.values.includes(s)) {
        throw new FieldError(path, `expected one of ${schema.values.join(', ')}, got ${JSON.stringify(s)}`);
      }
      return s;
    }
    case 'strings':
      return stringList(v, path);
    case 'matchers': {
      const list = stringList(v, path);
      list.forEach((m, i) => {
        try {
          compileRoleMatcher(m);
        } catch (err) {
          throw new FieldError(`${path}[${i}]`, (err as Error).message);
        }
      });
      return list;
    }
    case 'duration': {
      const s = scalarString(v, path);
      try {
        parseDuration(s);
      } catch {
        throw new FieldError(path, `invalid duration ${JSON.stringify(s)} (use e.g. 30m, 8h, 1h30m)`);
      }
      return s;
    }
    case 'stringMap': {
      if (!isPlainObject(v)) throw new FieldError(path, 'expected a map of strings');
      return Object.fromEntries(Object.entries(v).map(([k, val]) => [k, scalarString(val, join(path, k))]));
    }
    case 'selector': {
      if (!isPlainObject(v)) throw new FieldError(path, 'expected a map of label names to values');
      return Object.fromEntries(
        Object.entries(v).map(([k, val]) => {
          const values = Array.isArray(val)
            ? stringList(val, join(path, k))
            : [scalarString(val, join(path, k))];
          values.forEach((m, i) => {
            try {
              checkSelectorValue(m);
            } catch (err) {
              throw new FieldError(`${join(path, k)}[${i}]`, (err as Error).message);
            }
          });
          return [k, Array.isArray(val) ? values : values[0]];
        }),
      );
    }
    case 'listMap': {
      if (!isPlainObject(v)) throw new FieldError(path, 'expected a map of names to lists of strings');
      return Object.fromEntries(
        Object.entries(v).map(([k, val]) => [k, stringList(val ?? [], join(path, k))]),
      );
    }
    case 'predicate': {
      const s = scalarString(v, path);
      try {
        compilePredicate(s, reviewEnv(schema.env === 'filter'));
      } catch (err) {
        throw new FieldError(path, `invalid expression: ${(err as Error).message}`);
      }
      return s;
    }
    case 'list':
      if (!Array.isArray(v)) throw new FieldError(path, 'expected a list');
      return v.map((item, i) => validate(item, schema.item, `${path}[${i}]`));
    case 'object': {
      if (v === null || v === undefined) v = {};
      if (!isPlainObject(v)) throw new FieldError(path, 'expected a map');
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(v)) {
        if (!Object.hasOwn(schema.fields, k)) throw new FieldError(join(path, k), 'unknown field');
        if (val === null || val === undefined) continue;
        out[k] = validate(val, schema.fields[k], join(path, k));
      }
      for (const k of schema.required ?? []) {
        if (out[k] === undefined || out[k] === '') throw new FieldError(join(path, k), 'is required');
      }
      return out;
    }
  }
}
