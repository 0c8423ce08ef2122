/**
 * The RBAC an Access Request plugin needs, as `access sign-helper --print-rbac` prints it:
 * one role and one user in Teleport's resource format, loadable by `tctl create -f` and by
 * `access server start --seed`.
 */

/** The role name the printed RBAC grants; the user name is configurable. */
export const PLUGIN_ROLE = 'access-plugin';

/** The default name of the plugin's user. */
export const DEFAULT_PLUGIN_USER = 'access-plugin';

/** The printed resources as plain data (what `--format json` prints). */
export function pluginRbacResources(user: string = DEFAULT_PLUGIN_USER): Record<string, unknown>[] {
  return [
    {
      kind: 'role',
      version: 'v7',
      metadata: {
        name: PLUGIN_ROLE,
        description: 'Access Request plugin: see requests and approve or deny them',
      },
      spec: {
        allow: {
          rules: [
            { resources: ['access_request'], verbs: ['list', 'read', 'update'] },
            { resources: ['access_plugin_data'], verbs: ['update'] },
            { resources: ['access_monitoring_rule'], verbs: ['list', 'read'] },
            { resources: ['user'], verbs: ['read'] },
          ],
        },
      },
    },
    { kind: 'user', version: 'v2', metadata: { name: user }, spec: { roles: [PLUGIN_ROLE] } },
  ];
}

/**
 * The same resources as commented multi-document YAML. The comments explain the notify-only
 * variant and the TTL cap, so the text can be pasted as is. `user` must be a plain name.
 */
export function pluginRbacYaml(user: string = DEFAULT_PLUGIN_USER): string {
  const name = yamlScalar(user);
  return `# RBAC for an Access Request plugin. Load it with \`tctl create -f FILE\` or
# \`access server start --seed FILE\`, then issue the plugin's credentials with
# \`access sign-helper --user ${user} --out auth\`.
#
# The role lets the plugin list and read every access request and approve or deny
# them (update). A notify-only plugin, one that posts messages but never decides,
# needs no \`update\`:
#     - resources: [access_request]
#       verbs: [list, read]
# access_plugin_data/update lets Teleport's plugins keep per-request state (message
# IDs); the embedded server ignores it. access_monitoring_rule/list,read lets a plugin
# route notifications by Access Monitoring Rules, and user/read lets it read the traits
# a rule's user.traits needs (Teleport's preset access-plugin role grants both).
# Callbacks of \`access webhook serve\` set the state directly with this role; to have
# them submit reviews (thresholds apply), also allow review_requests for the roles the
# plugin may review.
#
# The lifetime of the plugin's certificate is capped by max_session_ttl of these
# roles (Teleport's default is 30h): set spec.options.max_session_ttl for longer-lived
# credentials, or re-issue them before they expire.
kind: role
version: v7
metadata:
  name: ${PLUGIN_ROLE}
  description: "Access Request plugin: see requests and approve or deny them"
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
  name: ${name}
spec:
  roles: [${PLUGIN_ROLE}]
`;
}

/** A user name as a YAML scalar: bare when safe, double-quoted (JSON escaping is valid YAML) otherwise. */
function yamlScalar(s: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/.test(s) ? s : JSON.stringify(s);
}
