import {
  AccessRequestV3,
  type AccessReview,
  type RequestState,
} from '../../../../src/gen/teleport/legacy/types/types.js';
import { demoSeed } from '../../../../src/server/demo-seed.js';
import { createPolicy } from '../../../../src/server/policy.js';
import { parseSeed } from '../../../../src/server/seed.js';
import type { Caller, Policy } from '../../../../src/server/types.js';

export const NOW = new Date('2026-03-02T10:00:00Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const CLUSTER = 'local';

export const NODE_DEV = '8c3a5f1e-2b7d-4c1a-9e0f-1a2b3c4d5e01';
export const NODE_STAGING = '8c3a5f1e-2b7d-4c1a-9e0f-1a2b3c4d5e02';
export const NODE_PROD = '8c3a5f1e-2b7d-4c1a-9e0f-1a2b3c4d5e03';

export function demoPolicy(): Policy {
  return createPolicy(demoSeed(), CLUSTER);
}

export function yamlPolicy(yaml: string): Policy {
  return createPolicy(parseSeed(yaml, 'test.yaml'), CLUSTER);
}

/** A caller as the runtime builds it from a fresh certificate of a seeded user. */
export function caller(policy: Policy, name: string, extra: Partial<Caller> = {}): Caller {
  const user = policy.user(name);
  if (!user) throw new Error(`no user ${name} in the seed`);
  return {
    user: name,
    roles: [...user.roles],
    traits: user.traits,
    activeRequests: [],
    allowedResourceIds: [],
    expires: new Date(NOW.getTime() + 12 * HOUR),
    ...extra,
  };
}

export function request(
  user: string,
  roles: string[],
  spec: Partial<NonNullable<AccessRequestV3['spec']>> = {},
  metadata: Partial<NonNullable<AccessRequestV3['metadata']>> = {},
): AccessRequestV3 {
  return AccessRequestV3.fromPartial({
    kind: 'access_request',
    version: 'v3',
    metadata,
    spec: { user, roles, ...spec },
  });
}

export function resourceIds(...ids: string[]) {
  return ids.map((s) => {
    const [, cluster, kind, ...rest] = s.split('/');
    const kube = kind.startsWith('kube:');
    return {
      clusterName: cluster,
      kind,
      name: kube ? rest[0] : rest.join('/'),
      subResourceName: kube ? rest.slice(1).join('/') : '',
    };
  });
}

export function review(state: RequestState, extra: Partial<AccessReview> = {}): AccessReview {
  return {
    author: '',
    roles: [],
    proposedState: state,
    reason: '',
    created: undefined,
    annotations: undefined,
    thresholdIndexes: [],
    accessList: undefined,
    assumeStartTime: undefined,
    ...extra,
  };
}

/** Creates a request as `user` and returns it completed. */
export function create(
  policy: Policy,
  user: string,
  roles: string[],
  spec: Partial<NonNullable<AccessRequestV3['spec']>> = {},
): AccessRequestV3 {
  return policy.prepareCreate(caller(policy, user), request(user, roles, spec), NOW);
}

/** Applies reviews in order; each entry is [author, state]. */
export function reviewAll(
  policy: Policy,
  req: AccessRequestV3,
  reviews: [string, RequestState][],
  at: Date = NOW,
): AccessRequestV3 {
  let current = req;
  for (const [author, state] of reviews) {
    current = policy.applyReview(
      caller(policy, author),
      current,
      review(state, { reason: `${author} says so` }),
      at,
    );
  }
  return current;
}

export function setState(
  policy: Policy,
  req: AccessRequestV3,
  state: RequestState,
  extra: {
    roles?: string[];
    reason?: string;
    delegator?: string;
    annotations?: Record<string, string[]>;
  } = {},
): AccessRequestV3 {
  return policy.applyState(
    req,
    {
      state,
      reason: extra.reason ?? '',
      annotations: extra.annotations ?? {},
      roles: extra.roles ?? [],
      delegator: extra.delegator ?? '',
    },
    NOW,
  );
}
