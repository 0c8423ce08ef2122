/**
 * The built-in demo seed of `access server start` (used when `--seed` is omitted). It shows
 * every workflow with Teleport's own role semantics:
 *
 * - alice (roles requester, dba-requester) may request `auditor` (one approval) and `dba`
 *   (a reason is required, and two approvals: dba-requester adds a second threshold set
 *   that needs two), and may request dev/staging resources through search_as_roles
 *   `resource-access` (Kubernetes: only pods in namespace `dev`; also the user group
 *   okta-dev-team, the SAML IdP service provider grafana-saml, and the AWS Identity Center
 *   account aws-staging with its assignment 111111111111--ReadOnly; not aws-production).
 * - bob and carol (reviewer) review dba, auditor and resource-access requests.
 * - dave (contractor) must give a reason for every request (options.request_access: reason)
 *   and gets a request prompt.
 * - admin (access-admin) lists, reads, updates, deletes and creates requests, reviews any
 *   role, may impersonate anyone and manages locks (revoking a request's certificates); access-plugin has the standard plugin rules.
 */
import { DEMO_RESOURCES_YAML } from './demo-seed-resources.js';
import { parseSeed } from './seed.js';
import type { Seed } from './types.js';

export const DEMO_SEED_YAML = `# access demo seed: roles, users and resources in Teleport's resource format.
kind: role
version: v7
metadata:
  name: requester
  description: Engineers who request elevated access
spec:
  options:
    max_session_ttl: 8h
    request_access: optional
    request_prompt: Describe the change or incident and give its ticket ID
  allow:
    request:
      roles: [dba, auditor]
      search_as_roles: [resource-access]
      suggested_reviewers: [bob, carol]
      thresholds:
        - name: default
          approve: 1
          deny: 1
      max_duration: 8h
      annotations:
        team: ['{{external.team}}']
        requested-login: ['{{internal.logins}}']
---
kind: role
version: v7
metadata:
  name: dba-requester
  description: Requests for dba need a reason and two approvals
spec:
  allow:
    request:
      roles: [dba]
      reason:
        mode: required
      thresholds:
        - name: two-dba-approvals
          approve: 2
          deny: 1
      suggested_reviewers: [bob, carol]
---
kind: role
version: v7
metadata:
  name: dba
  description: Database administration
spec:
  options:
    max_session_ttl: 4h
  allow:
    logins: ['{{internal.logins}}']
    db_labels:
      '*': '*'
    node_labels:
      role: db
---
kind: role
version: v7
metadata:
  name: auditor
  description: Read-only access everywhere
spec:
  options:
    max_session_ttl: 8h
  allow:
    node_labels:
      '*': '*'
    app_labels:
      '*': '*'
---
kind: role
version: v7
metadata:
  name: resource-access
  description: What alice may search and request resource by resource
spec:
  options:
    max_session_ttl: 8h
  allow:
    logins: ['{{internal.logins}}']
    node_labels:
      env: [dev, staging]
    db_labels:
      env: [dev, staging]
    app_labels:
      env: [dev, staging]
    kubernetes_labels:
      env: [dev, staging]
    kubernetes_resources:
      - kind: pods
        namespace: dev
        name: '*'
    windows_desktop_labels:
      env: [dev, staging]
    group_labels:
      env: [dev, staging]
    rules:
      - resources: [saml_idp_service_provider]
        verbs: [list, read]
    account_assignments:
      - account: '111111111111'
        permission_set: '*'
---
kind: role
version: v7
metadata:
  name: reviewer
  description: Reviews access requests
spec:
  options:
    max_session_ttl: 8h
  allow:
    review_requests:
      roles: [dba, auditor, resource-access]
---
kind: role
version: v7
metadata:
  name: contractor
  description: Every request needs a reason
spec:
  options:
    max_session_ttl: 4h
    request_access: reason
    request_prompt: Contractors - give the ticket ID of your assignment
  allow:
    request:
      roles: [auditor]
      suggested_reviewers: [bob]
---
kind: role
version: v7
metadata:
  name: access-admin
  description: Administers access requests
spec:
  options:
    max_session_ttl: 12h
  allow:
    rules:
      - resources: [access_request]
        verbs: [list, read, update, delete, create]
      - resources: [access_monitoring_rule]
        verbs: [list, read, update, delete, create]
      - resources: [user, role]
        verbs: [list, read]
      - resources: [lock]
        verbs: [list, read, create, update, delete]
    impersonate:
      users: ['*']
      roles: ['*']
    review_requests:
      roles: ['*']
---
kind: role
version: v7
metadata:
  name: access-plugin
  description: Access request plugins and bots
spec:
  allow:
    rules:
      - resources: [access_request]
        verbs: [list, read, update]
      - resources: [access_plugin_data]
        verbs: [update]
      - resources: [access_monitoring_rule]
        verbs: [list, read]
      - resources: [user]
        verbs: [read]
---
kind: user
version: v2
metadata:
  name: alice
spec:
  roles: [requester, dba-requester]
  traits:
    logins: [alice]
    team: [dev]
---
kind: user
version: v2
metadata:
  name: bob
spec:
  roles: [reviewer]
  traits:
    logins: [bob]
    team: [dba]
---
kind: user
version: v2
metadata:
  name: carol
spec:
  roles: [reviewer]
  traits:
    logins: [carol]
    team: [security]
---
kind: user
version: v2
metadata:
  name: dave
spec:
  roles: [contractor]
  traits:
    logins: [dave]
    team: [contractors]
---
kind: user
version: v2
metadata:
  name: admin
spec:
  roles: [access-admin]
  traits:
    logins: [admin]
---
kind: user
version: v2
metadata:
  name: access-plugin
spec:
  roles: [access-plugin]
---
${DEMO_RESOURCES_YAML}`;

/** The demo seed, parsed (a fresh copy on every call). */
export function demoSeed(): Seed {
  return parseSeed(DEMO_SEED_YAML, 'built-in demo seed');
}
