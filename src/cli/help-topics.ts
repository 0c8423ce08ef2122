import { EXIT_CODES } from '../model/errors.js';
import { schemaDoc } from '../model/schema.js';

/** A `access help <topic>` page; the same texts feed the man page. */
export interface HelpTopic {
  name: string;
  title: string;
  text: string;
}

const ENVIRONMENT = `Flags win over environment variables; where two variables are listed, the first set wins.

  ACCESS_AUTH_SERVER, TELEPORT_AUTH_SERVER   Auth Service address HOST:PORT (--auth-server)
  ACCESS_PROXY, TELEPORT_PROXY               Proxy address with TLS routing (--proxy)
  ACCESS_IDENTITY, TELEPORT_IDENTITY_FILE    identity file (-i, --identity)
  ACCESS_CERT, ACCESS_KEY, ACCESS_CA         TLS certificate, key and CAs (--cert, --key, --ca)
  TELEPORT_HOME                              tsh profile directory, used when no identity is given
                                             (default ~/.tsh)
  TELEPORT_TLS_ROUTING_CONN_UPGRADE          reach the Proxy through an HTTPS connection upgrade
                                             (an L7 load balancer in front): true/false, or
                                             ADDRESS=true,... pairs; as tsh reads it
  TELEPORT_TLS_ROUTING_CONN_UPGRADE_MODE     legacy: upgrade with "Upgrade: alpn", not WebSocket
  SSL_CERT_FILE                              CA bundle for the load balancer's certificate
                                             (instead of the built-in roots)
  ACCESS_FORMAT                              output format: text, json or yaml (-f, --format)
  ACCESS_RPC_TIMEOUT                         deadline of a single RPC, e.g. 30s (--rpc-timeout)
  ACCESS_DEBUG=1                             log each RPC to stderr and show stack traces (--debug)
  ACCESS_DATA_DIR                            data directory of \`access server start\`
                                             (default ~/.access/server)
  NO_COLOR                                   never colour output (also --no-color)
  FORCE_COLOR                                colour even when not on a terminal (0 turns it off)

Credentials are taken from the first of: an identity file, the TLS trio (all three of
--cert, --key and --ca), the current tsh profile under TELEPORT_HOME. The address is
--auth-server or --proxy; with neither, the tsh profile's proxy is used.

To try \`access\` locally, start the embedded server and paste the export line it prints:

  access server start
  export ACCESS_AUTH_SERVER=127.0.0.1:3025 ACCESS_IDENTITY=~/.access/server/identities/alice.pem`;

const EXIT_MEANINGS: Record<number, string> = {
  0: 'success; for create and wait: the request was approved; for watch: stopped with Ctrl-C',
  1: 'any other failure (server error, unexpected)',
  2: 'usage error or invalid input (bad flag, resource ID, duration or time); nothing was changed',
  3: 'the request was denied',
  4: '--timeout reached while the request is still pending',
  5: 'the request expired or was deleted while waiting',
  6: 'not found (request, user, resource)',
  7: 'permission denied or authentication failed',
  8: 'the server cannot be reached',
  9: 'create, wait and exec: the request was approved (or, for exec, would be), but these credentials cannot assume it (an identity from `tctl auth sign`); assume it with `tsh login` credentials',
  130: 'interrupted (Ctrl-C) while waiting; the request ID and the resume command are printed',
  143: 'stopped by SIGTERM while waiting; the request ID and the resume command are printed',
};

function exitCodesText(): string {
  const codes = [...new Set(Object.values(EXIT_CODES)), 0].sort((a, b) => a - b);
  const lines = codes.map((c) => `  ${String(c).padStart(3)}  ${EXIT_MEANINGS[c] ?? ''}`.trimEnd());
  return `${lines.join('\n')}

Errors print one line, "error: <message>", and sometimes a "hint:" line, on stderr.
approve and deny report every ID and exit with the code of the first failure.
exec exits with COMMAND's own code once COMMAND ran (128+n when signal n killed it); the codes
above apply only before that.`;
}

const RESOURCE_IDS = `A resource ID names one requestable resource:

  /<cluster>/<kind>/<name>
  /<cluster>/kube:ns:<plural>[.<group>]/<kube-cluster>/<namespace>/<name>
  /<cluster>/kube:cw:<plural>[.<group>]/<kube-cluster>/<name>

Kinds: node, db, app, kube_cluster, windows_desktop, user_group, saml_idp_service_provider,
aws_ic_account, aws_ic_account_assignment (AWS Identity Center), and Kubernetes resources in the kube:ns: (namespaced) and kube:cw: (cluster-wide) forms; the
core API group has no suffix.
Older kinds such as pod or deployment are accepted and rewritten to the kube: form.

Examples:

  /local/node/8c3e2a6e-0c1e-4d6a-9a5b-0f9a2b1c3d4e
  /local/db/orders
  /local/kube:ns:pods/minikube/default/nginx
  /local/kube:ns:deployments.apps/minikube/prod/web
  /local/kube:cw:clusterroles.rbac.authorization.k8s.io/minikube/admin

\`access request search\` prints the IDs of what you may request, ready to paste into
\`access request create --resource <id>\`. A malformed ID is a usage error (exit 2) naming
the part that is wrong.`;

function formatsText(): string {
  return `--format text (default): on a terminal, tables fit its width: the least important
columns are left out, long text wraps between words, and on a narrow terminal each row is a
block of "Column: value" lines. When stdout is not a terminal, every column, without borders
or truncation, one row a line, columns separated by two spaces (an empty cell prints as "-").
--format json: one JSON document ending in a newline; lists are arrays. --format yaml: the
same structures as YAML. \`watch --format json\` prints one JSON object per line (NDJSON).
\`show\` prints one request for one ID and an array for several, as kubectl prints one
object. Progress, hints and errors always go to stderr, never into the document.

${schemaDoc()}`.trimEnd();
}

/** All topics, in the order `access help` lists them. */
export function helpTopics(): HelpTopic[] {
  return [
    { name: 'environment', title: 'Environment', text: ENVIRONMENT },
    // Built when read: the root help lists topic names only.
    {
      name: 'exit-codes',
      title: 'Exit codes',
      get text() {
        return exitCodesText();
      },
    },
    {
      name: 'formats',
      title: 'Output formats',
      get text() {
        return formatsText();
      },
    },
    { name: 'resource-ids', title: 'Resource IDs', text: RESOURCE_IDS },
  ];
}
