/**
 * Loads the embedded server's seed: multi-document YAML in Teleport's resource format
 * (`kind`, `version`, `metadata`, `spec`) holding roles, users and requestable resources.
 * Validation is strict, as a misspelt key silently ignored would grant or refuse access by
 * surprise: unknown fields, wrong types, bad durations, matchers that do not compile and
 * references to roles or clusters that do not exist are SeedErrors naming the document and
 * the field.
 */

import { parseAllDocuments } from 'yaml';
import { describeFsError, readRegularFile } from '../identity/files.js';
import { formatDuration, parseDuration } from '../model/duration.js';
import { UsageError } from '../model/errors.js';
import { MAX_ACCESS_DURATION_MS } from '../model/limits.js';
import { LEGACY_KUBE_KINDS } from '../model/resource-id.js';
import { normalizeKubeKind } from './resource-access.js';
import {
  BOT_LABEL,
  DOCUMENT_FIELDS,
  FieldError,
  isPlainObject,
  METADATA,
  SPECS,
  validate,
} from './seed-schema.js';
import type { AuthPreference, Resource, ResourceKind, Role, Seed, User } from './types.js';

/** An invalid seed file; the CLI maps it to exit code 2. */
export class SeedError extends UsageError {}

const CLUSTER_WIDE_PLURALS = new Set([
  'namespaces',
  ...Object.values(LEGACY_KUBE_KINDS)
    .filter((k) => !k.namespaced)
    .map((k) => k.plural),
]);

interface Doc {
  index: number;
  kind: string;
  name: string;
  metadata: { name: string; description?: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

function toRole(d: Doc): Role {
  const spec = d.spec as Pick<Role, 'options' | 'allow' | 'deny'>;
  return {
    name: d.name,
    ...(d.metadata.description ? { description: d.metadata.description } : {}),
    options: spec.options ?? {},
    allow: spec.allow ?? {},
    deny: spec.deny ?? {},
  };
}

function toUser(d: Doc): User {
  const spec = d.spec as { roles: string[]; traits?: Record<string, string[]> };
  const bot = Object.hasOwn(d.metadata.labels ?? {}, BOT_LABEL);
  return { name: d.name, roles: spec.roles, traits: spec.traits ?? {}, ...(bot ? { bot } : {}) };
}

function toResource(d: Doc): Resource {
  const s = d.spec as Record<string, string | undefined>;
  const base: Resource = { kind: d.kind as ResourceKind, name: d.name, labels: d.metadata.labels ?? {} };
  switch (d.kind) {
    case 'node':
      return { ...base, hostname: s.hostname, ...(s.addr ? { addr: s.addr } : {}) };
    case 'db':
      return { ...base, protocol: s.protocol, uri: s.uri };
    case 'app':
      return { ...base, uri: s.uri, ...(s.public_addr ? { publicAddr: s.public_addr } : {}) };
    case 'windows_desktop':
      return { ...base, addr: s.addr, ...(s.domain ? { domain: s.domain } : {}) };
    case 'user_group':
      return { ...base, applications: (d.spec as { applications?: string[] }).applications ?? [] };
    case 'saml_idp_service_provider':
      return { ...base, entityId: s.entity_id, ...(s.acs_url ? { acsUrl: s.acs_url } : {}) };
    case 'aws_ic_account':
      return {
        ...base,
        awsAccount: {
          id: s.id ?? '',
          ...(s.arn ? { arn: s.arn } : {}),
          ...(s.name ? { name: s.name } : {}),
          ...(s.description ? { description: s.description } : {}),
          ...(s.start_url ? { startUrl: s.start_url } : {}),
        },
      };
    case 'aws_ic_account_assignment': {
      const ps = (d.spec as { permission_set: { arn: string; name?: string } }).permission_set;
      return {
        ...base,
        awsAccount: { id: s.account_id ?? '', ...(s.account_name ? { name: s.account_name } : {}) },
        permissionSet: { arn: ps.arn, ...(ps.name ? { name: ps.name } : {}) },
        ...(s.display ? { display: s.display } : {}),
      };
    }
    case 'kube_resource': {
      const { plural, group } = normalizeKubeKind(s.kind ?? '', s.api_group);
      return {
        ...base,
        kubeKind: plural,
        apiGroup: group ?? '',
        kubeCluster: s.kube_cluster,
        ...(s.namespace ? { namespace: s.namespace } : {}),
      };
    }
    default:
      return base;
  }
}

/**
 * Parses seed YAML. `sourceName` names the file in error messages. Throws SeedError.
 */
export function parseSeed(yamlText: string, sourceName: string): Seed {
  const where = (index: number, kind?: string, name?: string) =>
    `seed ${JSON.stringify(sourceName)} document ${index}${kind && name ? ` (${kind} ${JSON.stringify(name)})` : ''}`;
  const docs: Doc[] = [];
  parseAllDocuments(yamlText).forEach((yamlDoc, i) => {
    const index = i + 1;
    if (yamlDoc.errors.length > 0) {
      throw new SeedError(`${where(index)}: invalid YAML: ${yamlDoc.errors[0].message.split('\n')[0]}`);
    }
    const value: unknown = yamlDoc.toJS();
    if (value === null || value === undefined) return;
    if (!isPlainObject(value))
      throw new SeedError(`${where(index)}: expected a resource (a map with kind, metadata, spec)`);
    const kind = typeof value.kind === 'string' ? value.kind : '';
    const rawName = isPlainObject(value.metadata) ? value.metadata.name : undefined;
    const name = typeof rawName === 'string' ? rawName : undefined;
    const fail = (path: string, detail: string): never => {
      const field = path === '' ? '' : detail === 'unknown field' ? '' : `field ${JSON.stringify(path)}: `;
      const text = detail === 'unknown field' ? `unknown field ${JSON.stringify(path)}` : `${field}${detail}`;
      throw new SeedError(`${where(index, Object.hasOwn(SPECS, kind) ? kind : undefined, name)}: ${text}`);
    };
    if (kind === '') fail('kind', 'is required');
    if (!Object.hasOwn(SPECS, kind)) {
      fail('kind', `unknown kind ${JSON.stringify(kind)} (expected one of ${Object.keys(SPECS).join(', ')})`);
    }
    for (const key of Object.keys(value)) if (!DOCUMENT_FIELDS.includes(key)) fail(key, 'unknown field');
    if (value.version !== undefined && typeof value.version !== 'string')
      fail('version', 'expected a string');
    try {
      const metadata = validate(value.metadata, METADATA, 'metadata') as Doc['metadata'];
      const spec = validate(value.spec, SPECS[kind], 'spec') as Record<string, unknown>;
      docs.push({ index, kind, name: metadata.name, metadata, spec });
    } catch (err) {
      if (err instanceof FieldError) fail(err.path, err.detail);
      throw err;
    }
  });

  const seen = new Map<string, number>();
  for (const d of docs) {
    // cluster_auth_preference is a singleton: a second one is a duplicate whatever its name.
    const key =
      d.kind === 'cluster_auth_preference'
        ? d.kind
        : `${d.kind === 'role' || d.kind === 'user' ? d.kind : `resource:${d.kind}`}/${d.name}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new SeedError(
        `${where(d.index, d.kind, d.name)}: duplicate ${d.kind} (also defined in document ${earlier})`,
      );
    }
    seen.set(key, d.index);
  }

  const roleNames = new Set(docs.filter((d) => d.kind === 'role').map((d) => d.name));
  const kubeClusters = new Set(docs.filter((d) => d.kind === 'kube_cluster').map((d) => d.name));
  const seed: Seed = { roles: [], users: [], resources: [] };
  for (const d of docs) {
    const fail = (path: string, detail: string): never => {
      throw new SeedError(`${where(d.index, d.kind, d.name)}: field ${JSON.stringify(path)}: ${detail}`);
    };
    if (d.kind === 'role') {
      const role = toRole(d);
      if (role.deny.request?.thresholds?.length) {
        fail(
          'spec.deny.request.thresholds',
          'deny.request cannot contain thresholds, set denial counts in allow.request.thresholds instead',
        );
      }
      const maxDuration = role.allow.request?.max_duration;
      if (maxDuration && parseDuration(maxDuration) > MAX_ACCESS_DURATION_MS) {
        fail(
          'spec.allow.request.max_duration',
          `max access duration must be less than or equal to ${formatDuration(MAX_ACCESS_DURATION_MS)}`,
        );
      }
      for (const block of ['allow', 'deny'] as const) {
        (role[block].request?.search_as_roles ?? []).forEach((r, i) => {
          if (!roleNames.has(r))
            fail(`spec.${block}.request.search_as_roles[${i}]`, `role ${JSON.stringify(r)} does not exist`);
        });
      }
      seed.roles.push(role);
    } else if (d.kind === 'user') {
      const user = toUser(d);
      user.roles.forEach((r, i) => {
        if (!roleNames.has(r)) fail(`spec.roles[${i}]`, `role ${JSON.stringify(r)} does not exist`);
      });
      seed.users.push(user);
    } else if (d.kind === 'cluster_auth_preference') {
      const spec = d.spec as {
        second_factor?: AuthPreference['secondFactor'];
        second_factors?: AuthPreference['secondFactors'];
      };
      seed.authPreference = {
        ...(spec.second_factor ? { secondFactor: spec.second_factor } : {}),
        ...(spec.second_factors ? { secondFactors: spec.second_factors } : {}),
      };
    } else {
      const resource = toResource(d);
      if (resource.kind === 'kube_resource') {
        if (!kubeClusters.has(resource.kubeCluster ?? '')) {
          fail('spec.kube_cluster', `kube_cluster ${JSON.stringify(resource.kubeCluster)} does not exist`);
        }
        const clusterWide = CLUSTER_WIDE_PLURALS.has(resource.kubeKind ?? '');
        if (!clusterWide && !resource.namespace)
          fail('spec.namespace', `is required for ${resource.kubeKind}`);
        if (clusterWide && resource.namespace)
          fail('spec.namespace', `${resource.kubeKind} are not namespaced`);
      }
      seed.resources.push(resource);
    }
  }
  return seed;
}

/** Reads and parses a seed file. Throws SeedError (also when the file cannot be read). */
export async function loadSeedFile(path: string): Promise<Seed> {
  let text: string;
  try {
    text = (await readRegularFile(path)).toString('utf8');
  } catch (err) {
    throw new SeedError(`cannot read seed ${JSON.stringify(path)}: ${describeFsError(err)}`);
  }
  return parseSeed(text, path);
}
