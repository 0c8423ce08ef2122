/**
 * The teleport-webhooks plugin's TOML configuration, read as the plugin read it
 * (teleport-plugins access/webhooks/config.go and lib/config.go, lib/http.go, lib/logger at
 * d520c686^), plus our additions. Its own example says `request_states` while the code read
 * `request_statuses`; both are accepted.
 */
import { dirname, join } from 'node:path';
import { UsageError } from '../model/errors.js';

/** The longest `callback_window`: signatures are remembered that long (replays). */
export const MAX_CALLBACK_WINDOW_SECONDS = 86_400;

export const DEFAULT_STATE_FILE = 'access-webhook-state.json';

export const STATE_KEYS = ['Pending', 'Approved', 'Denied', 'Deleted'] as const;
export type StateKey = (typeof STATE_KEYS)[number];

export interface WebhookConfig {
  teleport: {
    authServer: string;
    /** An identity file (newer plugins' `identity`); wins over the key/cert/CA trio. */
    identity?: string;
    clientKey: string;
    clientCrt: string;
    rootCas: string;
  };
  webhook: {
    url: string;
    notifyOnly: boolean;
    /** Which request states are sent (config.go: defaultStates = Pending only). */
    states: Record<StateKey, boolean>;
    /**
     * HMAC key for outgoing POSTs and signed callbacks: `signing_secret_file`, else
     * `callback_secret`, else one generated on first start beside the state file (`secret.ts`).
     */
    signingSecretFile?: string;
    callbackSecret?: string;
    /** Extra CA bundle to verify receivers (ours). */
    caFile?: string;
    /** Named receivers that Access Monitoring Rule recipients may use instead of URLs (ours). */
    endpoints: Record<string, string>;
    /** Where delivery progress is kept across restarts (ours); default: beside the configuration. */
    stateFile: string;
    /**
     * A callback sets the state directly (true) or submits a review (false); unset, the bridge
     * picks at start from what its identity may do (ours).
     */
    callbackSetsState?: boolean;
    /** Signed callbacks older or newer than this are replays (ours). */
    callbackWindowSeconds: number;
  };
  http: {
    publicAddr: string;
    listenAddr: string;
    keyFile: string;
    certFile: string;
    basicAuth?: { user: string; password: string };
  };
  log: { output: string; severity: string };
}

type Table = Record<string, unknown>;

function table(parent: Table, key: string, where: string): Table {
  const v = parent[key];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new UsageError(`${where}: [${key}] must be a table`);
  return v as Table;
}

function known(t: Table, keys: string[], where: string): void {
  const extra = Object.keys(t).find((k) => !keys.includes(k));
  if (extra !== undefined)
    throw new UsageError(`${where}: unknown key "${extra}" (expected one of ${keys.join(', ')})`);
}

function text(t: Table, key: string, where: string, fallback = ''): string {
  const v = t[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw new UsageError(`${where}: ${key} must be a string`);
  return v;
}

function bool(t: Table, key: string, where: string): boolean {
  const v = t[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new UsageError(`${where}: ${key} must be true or false`);
  return v;
}

/** Parses and checks a configuration; `file` names it in messages. */
export async function parseWebhookConfig(source: string, file: string): Promise<WebhookConfig> {
  const { parse } = await import('smol-toml');
  let doc: Table;
  try {
    doc = parse(source) as Table;
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  known(doc, ['teleport', 'webhook', 'http', 'log'], file);
  const tp = table(doc, 'teleport', file);
  known(
    tp,
    ['auth_server', 'addr', 'identity', 'client_key', 'client_crt', 'root_cas'],
    `${file} [teleport]`,
  );
  const wh = table(doc, 'webhook', file);
  known(
    wh,
    [
      'webhook_url',
      'notify_only',
      'request_states',
      'request_statuses',
      'callback_secret',
      'signing_secret_file',
      'ca_file',
      'endpoints',
      'state_file',
      'callback_sets_state',
      'callback_window',
    ],
    `${file} [webhook]`,
  );
  const http = table(doc, 'http', file);
  known(
    http,
    [
      'public_addr',
      'listen_addr',
      'https_key_file',
      'https_cert_file',
      'basic_auth',
      'verify_client_cert',
      'tls',
    ],
    `${file} [http]`,
  );
  const log = table(doc, 'log', file);
  known(log, ['output', 'severity'], `${file} [log]`);

  const url = text(wh, 'webhook_url', `${file} [webhook]`);
  // config.go, CheckAndSetDefaults.
  if (url === '') throw new UsageError(`${file}: missing required value webhook.webhook_url`);
  const states: Record<StateKey, boolean> = { Pending: true, Approved: false, Denied: false, Deleted: false };
  const statesTable = wh.request_statuses ?? wh.request_states;
  if (statesTable !== undefined) {
    const key = wh.request_statuses !== undefined ? 'request_statuses' : 'request_states';
    const t = table(wh, key, `${file} [webhook]`);
    for (const s of STATE_KEYS) states[s] = false;
    for (const [k, v] of Object.entries(t)) {
      if (!(STATE_KEYS as readonly string[]).includes(k)) {
        throw new UsageError(
          `${file}: webhook.${key} has unknown state "${k}" (expected ${STATE_KEYS.join(', ')})`,
        );
      }
      if (typeof v !== 'boolean') throw new UsageError(`${file}: webhook.${key}.${k} must be true or false`);
      states[k as StateKey] = v;
    }
  }
  const endpointsTable = table(wh, 'endpoints', `${file} [webhook]`);
  const endpoints: Record<string, string> = {};
  for (const [k, v] of Object.entries(endpointsTable)) {
    if (typeof v !== 'string') throw new UsageError(`${file}: webhook.endpoints.${k} must be a URL string`);
    endpoints[k] = v;
  }
  for (const u of [url, ...Object.values(endpoints)]) checkReceiverUrl(u, file);
  const windowSeconds = wh.callback_window ?? 300;
  // TOML has nan and inf: a window of either would accept any timestamp.
  if (
    typeof windowSeconds !== 'number' ||
    !Number.isFinite(windowSeconds) ||
    windowSeconds <= 0 ||
    windowSeconds > MAX_CALLBACK_WINDOW_SECONDS
  ) {
    throw new UsageError(
      `${file}: webhook.callback_window must be a number of seconds above 0 and at most ${MAX_CALLBACK_WINDOW_SECONDS} (a day)`,
    );
  }
  const basic = table(http, 'basic_auth', `${file} [http]`);
  known(basic, ['user', 'password'], `${file} [http.basic_auth]`);
  const user = text(basic, 'user', `${file} [http.basic_auth]`);
  const password = text(basic, 'password', `${file} [http.basic_auth]`);
  // lib/http.go, HTTPConfig.Check: a password needs a user.
  if (password !== '' && user === '')
    throw new UsageError(`${file}: http.basic_auth.password is set without user`);

  const config: WebhookConfig = {
    teleport: {
      authServer:
        text(tp, 'auth_server', `${file} [teleport]`) ||
        text(tp, 'addr', `${file} [teleport]`, 'localhost:3025'),
      clientKey: text(tp, 'client_key', `${file} [teleport]`, 'client.key'),
      clientCrt: text(tp, 'client_crt', `${file} [teleport]`, 'client.pem'),
      rootCas: text(tp, 'root_cas', `${file} [teleport]`, 'cas.pem'),
    },
    webhook: {
      url,
      notifyOnly: bool(wh, 'notify_only', `${file} [webhook]`),
      states,
      endpoints,
      // By default beside the configuration, wherever the bridge is started from.
      stateFile: text(wh, 'state_file', `${file} [webhook]`, join(dirname(file), DEFAULT_STATE_FILE)),
      callbackWindowSeconds: windowSeconds,
    },
    http: {
      publicAddr: text(http, 'public_addr', `${file} [http]`),
      listenAddr: text(http, 'listen_addr', `${file} [http]`, ':8081'),
      keyFile: text(http, 'https_key_file', `${file} [http]`),
      certFile: text(http, 'https_cert_file', `${file} [http]`),
    },
    log: {
      output: text(log, 'output', `${file} [log]`, 'stderr'),
      severity: text(log, 'severity', `${file} [log]`, 'info'),
    },
  };
  const identity = text(tp, 'identity', `${file} [teleport]`);
  if (identity) config.teleport.identity = identity;
  const secretFile = text(wh, 'signing_secret_file', `${file} [webhook]`);
  if (secretFile) config.webhook.signingSecretFile = secretFile;
  const callbackSecret = text(wh, 'callback_secret', `${file} [webhook]`);
  if (callbackSecret) config.webhook.callbackSecret = callbackSecret;
  const caFile = text(wh, 'ca_file', `${file} [webhook]`);
  if (caFile) config.webhook.caFile = caFile;
  if (user) config.http.basicAuth = { user, password };
  if (wh.callback_sets_state !== undefined)
    config.webhook.callbackSetsState = bool(wh, 'callback_sets_state', `${file} [webhook]`);
  if (!config.webhook.notifyOnly && (!config.http.keyFile || !config.http.certFile)) {
    throw new UsageError(
      `${file}: the callback server needs https_key_file and https_cert_file under [http]`,
      'or set notify_only = true under [webhook]',
    );
  }
  return config;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** HTTPS only, except loopback URLs (tests, a local relay). */
export function checkReceiverUrl(u: string, where: string): URL {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new UsageError(`${where}: ${JSON.stringify(u)} is not a URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return url;
  throw new UsageError(
    `${where}: ${JSON.stringify(u)} must use https:// (plain http only for loopback addresses)`,
  );
}

/** `access webhook configure`: a commented template, as the plugin's `configure` printed one. */
export const CONFIG_TEMPLATE = `# access webhook serve configuration (the teleport-webhooks plugin's format, plus additions)
[teleport]
auth_server = "teleport.example.com:3025"                  # Auth Service gRPC address
client_key = "/var/lib/teleport/plugins/webhooks/auth.key" # tctl auth sign --format=tls output
client_crt = "/var/lib/teleport/plugins/webhooks/auth.crt"
root_cas = "/var/lib/teleport/plugins/webhooks/auth.cas"
# identity = "/var/lib/teleport/plugins/webhooks/auth.pem" # or an identity file instead of the three above

[webhook]
webhook_url = "https://hooks.example.com/teleport" # receiver when no access_monitoring_rule routes a request
notify_only = false                                # true: no callback server, no approvals
request_statuses = { "Pending" = true, "Approved" = true, "Denied" = true, "Deleted" = true }
signing_secret_file = "/var/lib/teleport/plugins/webhooks/signing.key" # HMAC-SHA256 key for X-Access-Signature (mode 0600);
                                                   # without it, one is generated beside state_file on first start
# ca_file = "/etc/ssl/receivers.pem"               # extra CAs to verify receivers
# state_file = "/var/lib/teleport/plugins/webhooks/state.json" # delivery progress across restarts (default: beside this file)
# callback_window = 300                            # seconds a signed callback stays valid (at most 86400)
# callback_sets_state = false                      # true: set the state directly; false: review; unset: review when
                                                   # the identity may, else set the state (as teleport-webhooks did)
# [webhook.endpoints]                              # names rules may use as recipients
# oncall = "https://oncall.example.com/hook"

[http]
public_addr = "webhooks.example.com"  # where receivers reach the callback server
listen_addr = ":8081"                 # callback server address
https_key_file = "/var/lib/teleport/plugins/webhooks/server.key"
https_cert_file = "/var/lib/teleport/plugins/webhooks/server.crt"

#[http.basic_auth]
#user = "user"
#password = "password"

[log]
output = "stderr" # stderr, stdout or a file path
severity = "INFO"
`;
