/**
 * Shaping our values as Teleport's proto messages: metadata, times, resources as the
 * services' heartbeats carry them.
 */

import type { PaginatedResource } from '../../gen/teleport/legacy/client/proto/authservice.js';
import type { Metadata } from '../../gen/teleport/legacy/types/types.js';
import { isSetTime } from '../../model/time.js';
import { IC_ACCOUNT, IC_ACCOUNT_ASSIGNMENT } from '../identity-center.js';
import { badParameter, type Resource } from '../types.js';

/** The Teleport version this server emulates (clients gate features on it). */
export const SERVER_VERSION = '18.0.0';

/** Go writes an unset time as year 1; both that and undefined mean "not set". */
export function setTime(d: Date | undefined): Date | undefined {
  return isSetTime(d) ? d : undefined;
}

export function metadata(name: string, extra: Partial<Metadata> = {}): Metadata {
  return {
    name,
    namespace: 'default',
    description: '',
    labels: {},
    expires: undefined,
    revision: '',
    ...extra,
  };
}

/** The PaginatedResource arm of a seed resource, shaped as Teleport's service heartbeats. */
export function toPaginated(r: Resource, listedAs: string): PaginatedResource['resource'] {
  const hostId = `${r.kind}-${r.name}`;
  const labels = { ...r.labels };
  switch (r.kind) {
    case 'node':
      return {
        $case: 'node',
        value: {
          kind: 'node',
          subKind: 'teleport',
          version: 'v2',
          metadata: metadata(r.name, { labels }),
          spec: {
            addr: r.addr ?? '',
            hostname: r.hostname ?? r.name,
            useTunnel: false,
            version: SERVER_VERSION,
          },
        },
      };
    case 'db':
      return {
        $case: 'databaseServer',
        value: {
          kind: 'db_server',
          subKind: '',
          version: 'v3',
          metadata: metadata(r.name, { labels }),
          spec: {
            version: SERVER_VERSION,
            hostname: r.hostname ?? r.name,
            hostId,
            database: {
              kind: 'db',
              subKind: '',
              version: 'v3',
              metadata: metadata(r.name, { labels }),
              spec: { protocol: r.protocol ?? '', uri: r.uri ?? '' },
            },
          },
        },
      };
    case 'app':
      return {
        $case: 'appServer',
        value: {
          kind: 'app_server',
          subKind: '',
          version: 'v3',
          metadata: metadata(r.name, { labels }),
          spec: {
            version: SERVER_VERSION,
            hostname: r.hostname ?? r.name,
            hostId,
            app: {
              kind: 'app',
              subKind: '',
              version: 'v3',
              metadata: metadata(r.name, { labels }),
              spec: {
                uri: r.uri ?? '',
                publicAddr: r.publicAddr ?? '',
                aws: undefined,
                identityCenter: undefined,
              },
            },
          },
        },
      };
    case 'kube_cluster': {
      const cluster = {
        kind: 'kube_cluster',
        subKind: '',
        version: 'v3',
        metadata: metadata(r.name, { labels }),
        spec: {},
      };
      if (listedAs === 'kube_server') {
        return {
          $case: 'kubernetesServer',
          value: {
            kind: 'kube_server',
            subKind: '',
            version: 'v3',
            metadata: metadata(r.name, { labels }),
            spec: { version: SERVER_VERSION, hostname: r.hostname ?? r.name, hostId, cluster },
          },
        };
      }
      return { $case: 'kubeCluster', value: cluster };
    }
    case 'windows_desktop':
      return {
        $case: 'windowsDesktop',
        value: {
          header: {
            kind: 'windows_desktop',
            subKind: '',
            version: 'v3',
            metadata: metadata(r.name, { labels }),
          },
          spec: { addr: r.addr ?? '', domain: r.domain ?? '', hostId, nonAd: !r.domain },
        },
      };
    case 'user_group':
      return {
        $case: 'userGroup',
        value: {
          header: { kind: 'user_group', subKind: '', version: 'v1', metadata: metadata(r.name, { labels }) },
          spec: { applications: [...(r.applications ?? [])] },
        },
      };
    case 'saml_idp_service_provider':
      return {
        $case: 'samlIdpServiceProvider',
        value: {
          header: {
            kind: 'saml_idp_service_provider',
            subKind: '',
            version: 'v1',
            metadata: metadata(r.name, { labels }),
          },
          spec: { entityDescriptor: '', entityId: r.entityId ?? '', acsUrl: r.acsUrl ?? '' },
        },
      };
    case 'aws_ic_account':
    case 'aws_ic_account_assignment':
      return toPaginatedIdentityCenter(r);
    default:
      throw badParameter(`resource kind "${r.kind}" cannot be listed with ListResources`);
  }
}

/**
 * The PaginatedResource arm of an Identity Center resource, as lib/services/unified_resource.go
 * MakePaginatedResource builds it: an account is sent as an AppServer whose app has sub-kind
 * `aws_ic_account` (makePaginatedIdentityCenterAccount; the account name is the metadata
 * description); an assignment has its own arm (proto.PackICAccountAssignment).
 */
function toPaginatedIdentityCenter(r: Resource): PaginatedResource['resource'] {
  const account = r.awsAccount ?? { id: '' };
  if (r.kind === IC_ACCOUNT) {
    return {
      $case: 'appServer',
      value: {
        kind: 'app_server',
        subKind: '',
        version: 'v3',
        metadata: metadata(r.name, { labels: { ...r.labels }, description: account.name ?? '' }),
        spec: {
          version: '',
          hostname: '',
          hostId: '',
          app: {
            kind: 'app',
            subKind: IC_ACCOUNT,
            version: 'v3',
            metadata: metadata(r.name, { labels: { ...r.labels }, description: account.description ?? '' }),
            spec: {
              uri: account.startUrl ?? '',
              publicAddr: account.startUrl ?? '',
              aws: { externalId: account.id },
              identityCenter: { accountId: account.id, permissionSets: [] },
            },
          },
        },
      },
    };
  }
  return {
    $case: 'identityCenterAccountAssignment',
    value: {
      kind: IC_ACCOUNT_ASSIGNMENT,
      subKind: '',
      version: 'v1',
      metadata: metadata(r.name, { labels: { ...r.labels } }),
      displayName: r.display ?? '',
      account: {
        id: account.id,
        arn: account.arn ?? '',
        accountName: account.name ?? '',
        description: account.description ?? '',
      },
      permissionSet: { arn: r.permissionSet?.arn ?? '', name: r.permissionSet?.name ?? '' },
    },
  };
}
