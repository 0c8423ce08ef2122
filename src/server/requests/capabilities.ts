/**
 * GetAccessCapabilities: requestable roles, suggested reviewers, the roles applicable to
 * resources, and whether a reason is required.
 */
import type { AccessCapabilities } from '../../gen/teleport/legacy/types/types.js';
import { parseResourceId } from '../../model/resource-id.js';
import { type Catalog, rolesNamed, ruleDeniedMessage, rulesAllow } from '../rbac.js';
import type { Caller } from '../types.js';
import { accessDenied, badParameter } from '../types.js';
import { applicableSearchAsRoles, resolveResources } from './resources.js';
import { RequestValidator, userOrFail } from './validator.js';
import { dedupe } from './wire.js';

/** GetAccessCapabilities (see Policy.capabilities). */
export function capabilities(
  catalog: Catalog,
  caller: Caller,
  query: { user: string; requestableRoles: boolean; suggestedReviewers: boolean; resourceIds: string[] },
): AccessCapabilities {
  const name = query.user || caller.user;
  if (name !== caller.user && !rulesAllow(rolesNamed(catalog, caller.roles), 'user', 'read')) {
    throw accessDenied(ruleDeniedMessage('user', 'read'));
  }
  const v = new RequestValidator(catalog, userOrFail(catalog, name));
  const caps: AccessCapabilities = {
    requestableRoles: [],
    suggestedReviewers: [],
    applicableRolesForResources: [],
    requestPrompt: v.prompt,
    requireReason: false,
    autoRequest: v.autoRequest,
  };
  if (query.resourceIds.length > 0) {
    const ids = query.resourceIds.map((s) => {
      try {
        const p = parseResourceId(s);
        return { clusterName: p.cluster, kind: p.kind, name: p.name, subResourceName: p.subResource ?? '' };
      } catch (err) {
        throw badParameter((err as Error).message);
      }
    });
    caps.applicableRolesForResources = applicableSearchAsRoles(v, resolveResources(catalog, name, ids));
  }
  if (query.requestableRoles) caps.requestableRoles = v.requestableRoles();
  if (query.suggestedReviewers) caps.suggestedReviewers = dedupe(v.suggestedReviewers);
  const reasonRoles = query.requestableRoles ? caps.requestableRoles : caps.applicableRolesForResources;
  caps.requireReason = v.reasonRequirement(reasonRoles) !== undefined;
  return caps;
}
