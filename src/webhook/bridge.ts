/**
 * `access webhook serve`: posts access request changes to receivers, at least once.
 *
 * Every change becomes an event with a stable ID (`<request id>:<revision>`, or
 * `<request id>:deleted`). The small state file holds, per request, the last revision seen and
 * the deliveries not yet acknowledged; it is replaced atomically. After each (re)connection the
 * bridge waits for the watch's INIT, lists every request and derives what it missed (a new
 * revision, or a request gone), so neither a lost stream nor a restart (even kill -9) loses a
 * transition; a receiver may see an event twice and should dedupe on the event ID.
 * Each receiver has its own queue, delivered in order and retried with capped, jittered
 * backoff: one that keeps failing is logged and never holds up the others. A delivery is one
 * exchange (connect, send, status, whole answer) under one deadline; an answer cut short
 * (reset, aborted, closed early) or too slow fails it, so no receiver can stall its queue.
 * Every delivery is logged: INFO when acknowledged, WARN when it will be retried.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Connection } from '../client/connect.js';
import { probeUserReadRight } from '../client/probes.js';
import { requestsWithRevision } from '../client/requests.js';
import { notificationRules } from '../client/rules.js';
import { userTraits } from '../client/users.js';
import { backoffDelay, sleep } from '../client/wait.js';
import { type RequestFeedEvent, watchRequestFeed } from '../client/watch.js';
import { describeFsError, readRegularFile, writeFileAtomic } from '../identity/files.js';
import type { AccessRequest } from '../model/request.js';
import { compileCondition, conditionUsesTraits, requestContext } from '../model/rule-condition.js';
import { checkReceiverUrl, type StateKey, type WebhookConfig } from './config.js';
import { receiverForLog, type WebhookLog } from './log.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signature } from './sign.js';

/** What a receiver gets (documented in the README; additive only). */
export interface WebhookEvent {
  event_id: string;
  type: 'put' | 'delete';
  cluster: string;
  id: string;
  /** The request in our JSON shape; null for a deletion. */
  request: AccessRequest | null;
}

interface Delivery {
  url: string;
  event_id: string;
  body: string;
}

interface StateFile {
  version: 1;
  seen: Record<string, string>;
  pending: Delivery[];
}

export interface BridgeOptions {
  config: WebhookConfig;
  conn: Connection;
  secret: Buffer;
  /** The PEM of `ca_file`, read by the caller, trusted beside Node's roots. */
  caPem?: string;
  cluster: string;
  log: WebhookLog;
  signal: AbortSignal;
  now?: () => Date;
  /** Backoff bounds, ms (tests shorten them). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** The deadline of one delivery, whole exchange, ms. */
  deliveryTimeoutMs?: number;
}

const STATE_OF: Record<string, StateKey> = { PENDING: 'Pending', APPROVED: 'Approved', DENIED: 'Denied' };
const WEBHOOK_PLUGIN = 'webhook';
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRY_MIN_MS = 500;
export const DEFAULT_RETRY_MAX_MS = 60_000;

interface RouteRule {
  name: string;
  condition: string;
  recipients: string[];
}

export class WebhookBridge {
  private state: StateFile = { version: 1, seen: {}, pending: [] };
  private readonly queues = new Map<string, { items: Delivery[]; running: boolean }>();
  private writing: Promise<void> | undefined;
  private dirty = false;
  /** Bumped by every change of the state; `written` is the last one on disk. */
  private version = 0;
  private written = 0;
  private writtenWaiters: { version: number; resolve: () => void }[] = [];
  /** State version each queued delivery needs on disk before it is sent. */
  private readonly needs = new WeakMap<Delivery, number>();
  private rules: RouteRule[] = [];
  private rulesWarned = false;
  /** Rules already reported as depending on traits the bridge may not read. */
  private readonly traitRulesReported = new Set<string>();
  /** Whether some rule reads user.traits. */
  private rulesNeedTraits = false;
  /** true once the bridge may read users; else why not; undefined until a rule needs it. */
  private traitsReadable: true | string | undefined;
  private readonly agentOpts: https.AgentOptions;
  private readonly httpsAgent: https.Agent;
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  /** Deliveries acknowledged so far (tests and the benchmark wait on this). */
  delivered = 0;
  private readonly listeners: ((d: { url: string; event_id: string }) => void)[] = [];

  private constructor(
    private readonly opts: BridgeOptions,
    ca: string[] | undefined,
  ) {
    this.agentOpts = { keepAlive: true, ...(ca ? { ca } : {}) };
    this.httpsAgent = new https.Agent(this.agentOpts);
  }

  static async create(opts: BridgeOptions): Promise<WebhookBridge> {
    let ca: string[] | undefined;
    if (opts.caPem !== undefined) ca = [...rootCertificates, opts.caPem];
    const bridge = new WebhookBridge(opts, ca);
    try {
      // A FIFO or a directory here is refused at once, never blocking the start.
      const text = (await readRegularFile(opts.config.webhook.stateFile)).toString('utf8');
      const saved = JSON.parse(text) as StateFile;
      if (saved.version === 1) bridge.state = saved;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        opts.log(
          'warn',
          `webhook: state file ${opts.config.webhook.stateFile} unreadable, starting afresh: ${describeFsError(err)}`,
        );
      }
    }
    for (const d of bridge.state.pending) bridge.enqueue(d, false);
    return bridge;
  }

  /** Called after each acknowledged delivery. */
  onDelivered(listener: (d: { url: string; event_id: string }) => void): void {
    this.listeners.push(listener);
  }

  /** Follows the watch until the signal aborts, reconnecting with backoff. */
  async run(): Promise<void> {
    const { conn, signal, log } = this.opts;
    let failures = 0;
    const onEvent = async (event: RequestFeedEvent) => {
      switch (event.type) {
        case 'init':
          failures = 0;
          await this.refreshRules();
          await this.catchUp();
          break;
        case 'put':
          this.onPut(event.request, event.revision);
          break;
        case 'delete':
          this.onDelete(event.id);
          break;
        case 'rules-changed':
          this.chain = this.chain.then(() => this.refreshRules());
          break;
      }
    };
    while (!signal.aborted) {
      try {
        await watchRequestFeed(conn, onEvent, signal);
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        log('warn', `webhook: watch failed (${(err as Error).message}); reconnecting`);
      }
      await sleep(backoffDelay(Math.max(1, failures), { initialMs: 500, maxMs: 30_000 }), signal);
    }
    await this.flushState();
  }

  private async refreshRules(): Promise<void> {
    const { conn, signal, log } = this.opts;
    try {
      const rules = await notificationRules(conn, WEBHOOK_PLUGIN, { signal, timeoutMs: conn.rpcTimeoutMs });
      this.rules = rules.map((r) => ({
        name: r.metadata.name,
        condition: r.spec.condition,
        recipients: r.spec.notification?.recipients ?? [],
      }));
    } catch (err) {
      if (!this.rulesWarned) {
        this.rulesWarned = true;
        log(
          'warn',
          `webhook: cannot read access_monitoring_rules (${(err as Error).message}); everything goes to webhook_url`,
        );
      }
    }
    await this.checkTraitRules();
  }

  /**
   * Rules may route on the requester's traits, which the bridge reads as Teleport's
   * notification handler does: GetUser, which needs `read` on `user`
   * (lib/accessmonitoring/notification/request_handler.go, getUserTraits). Whether it may is
   * probed once, when the first such rule appears; if it may not, that is said once, naming
   * every rule that depends on traits (each rule once), so none fails to match in silence.
   */
  private async checkTraitRules(): Promise<void> {
    const traitRules = this.rules.filter((r) => conditionUsesTraits(r.condition));
    this.rulesNeedTraits = traitRules.length > 0;
    if (!this.rulesNeedTraits) return;
    if (this.traitsReadable === undefined) {
      const { conn, signal } = this.opts;
      try {
        const right = await probeUserReadRight(conn, { signal, timeoutMs: conn.rpcTimeoutMs });
        this.traitsReadable = right === true ? true : right;
      } catch (err) {
        this.traitsReadable = (err as Error).message;
      }
    }
    if (this.traitsReadable === true) return;
    const unnamed = traitRules.filter((r) => !this.traitRulesReported.has(r.name));
    if (unnamed.length === 0) return;
    for (const r of unnamed) this.traitRulesReported.add(r.name);
    this.opts.log(
      'warn',
      `webhook: cannot read user traits (${this.traitsReadable}); rules that depend on user.traits see none and never match on them: ${unnamed.map((r) => JSON.stringify(r.name)).join(', ')} (allow read on user in the bridge's role)`,
    );
  }

  /** The requester's traits when a rule needs them and they may be read; else none. */
  private async traitsOf(user: string): Promise<Record<string, string[]>> {
    if (!this.rulesNeedTraits || this.traitsReadable !== true) return {};
    const { conn, signal, log } = this.opts;
    try {
      return await userTraits(conn, user, { signal, timeoutMs: conn.rpcTimeoutMs });
    } catch (err) {
      log(
        'warn',
        `webhook: cannot read the traits of ${JSON.stringify(user)} (${(err as Error).message}); routing without them`,
      );
      return {};
    }
  }

  /** Receivers of a request: the recipients of matching `webhook` rules, else webhook_url. */
  private async targets(req: AccessRequest): Promise<string[]> {
    const { config, log } = this.opts;
    const urls = new Set<string>();
    if (this.rules.length > 0) {
      const traits = await this.traitsOf(req.user);
      const ctx = requestContext(req, { traits });
      for (const rule of this.rules) {
        let matched = false;
        try {
          matched = compileCondition(rule.condition).test(ctx);
        } catch {
          matched = false;
        }
        if (!matched) continue;
        for (const r of rule.recipients) {
          const url = Object.hasOwn(config.webhook.endpoints, r) ? config.webhook.endpoints[r] : r;
          try {
            checkReceiverUrl(url, 'access_monitoring_rule recipient');
            urls.add(url);
          } catch (err) {
            log('warn', `webhook: skipping recipient ${JSON.stringify(r)}: ${(err as Error).message}`);
          }
        }
      }
    }
    if (urls.size === 0) urls.add(config.webhook.url);
    return [...urls];
  }

  private async catchUp(): Promise<void> {
    await this.chain;
    const live = new Set<string>();
    for await (const { request, revision } of requestsWithRevision(this.opts.conn, {
      signal: this.opts.signal,
    })) {
      live.add(request.id);
      await this.onPutAsync(request, revision);
    }
    for (const id of Object.keys(this.state.seen)) if (!live.has(id)) this.onDelete(id);
  }

  private chain: Promise<void> = Promise.resolve();

  /** Keeps event handling in order even though routing is async. */
  private onPut(request: AccessRequest, revision: string): void {
    this.chain = this.chain
      .then(() => this.onPutAsync(request, revision))
      .catch((err: Error) => this.opts.log('error', `webhook: ${err.message}`));
  }

  private async onPutAsync(req: AccessRequest, revision: string): Promise<void> {
    const id = req.id;
    if (this.state.seen[id] === revision) return;
    this.state.seen[id] = revision;
    const key = STATE_OF[req.state];
    if (key && this.opts.config.webhook.states[key]) {
      const event: WebhookEvent = {
        event_id: `${id}:${revision}`,
        type: 'put',
        cluster: this.opts.cluster,
        id,
        request: req,
      };
      for (const url of await this.targets(req))
        this.enqueue({ url, event_id: event.event_id, body: JSON.stringify(event) });
    }
    this.saveState();
  }

  private onDelete(id: string): void {
    this.chain = this.chain.then(() => {
      if (!Object.hasOwn(this.state.seen, id)) return;
      delete this.state.seen[id];
      if (this.opts.config.webhook.states.Deleted) {
        const event: WebhookEvent = {
          event_id: `${id}:deleted`,
          type: 'delete',
          cluster: this.opts.cluster,
          id,
          request: null,
        };
        this.enqueue({
          url: this.opts.config.webhook.url,
          event_id: event.event_id,
          body: JSON.stringify(event),
        });
      }
      this.saveState();
    });
  }

  private enqueue(d: Delivery, record = true): void {
    if (record) this.state.pending.push(d);
    // Sent only once the state that knows it (and the revision it stands for) is on disk: a
    // kill -9 after the POST then never makes the bridge forget a request it announced.
    this.needs.set(d, record ? this.version + 1 : 0);
    let q = this.queues.get(d.url);
    if (!q) {
      q = { items: [], running: false };
      this.queues.set(d.url, q);
    }
    q.items.push(d);
    if (!q.running) void this.drain(d.url);
  }

  private async drain(url: string): Promise<void> {
    const q = this.queues.get(url)!;
    q.running = true;
    const { signal, log } = this.opts;
    const backoff = {
      initialMs: this.opts.retryMinMs ?? DEFAULT_RETRY_MIN_MS,
      maxMs: this.opts.retryMaxMs ?? DEFAULT_RETRY_MAX_MS,
    };
    const receiver = receiverForLog(url);
    let failures = 0;
    while (q.items.length > 0 && !signal.aborted) {
      const d = q.items[0];
      const started = performance.now();
      try {
        await this.durable(this.needs.get(d) ?? 0);
        const status = await this.post(d);
        q.items.shift();
        this.state.pending = this.state.pending.filter((p) => p !== d);
        this.delivered++;
        this.saveState();
        log(
          'info',
          `webhook: delivered ${d.event_id} to ${receiver}: HTTP ${status} (attempt ${failures + 1}, ${Math.round(performance.now() - started)} ms)`,
        );
        failures = 0;
        for (const l of this.listeners) l({ url: d.url, event_id: d.event_id });
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        const wait = backoffDelay(failures, backoff);
        log(
          'warn',
          `webhook: delivery of ${d.event_id} to ${receiver} failed (attempt ${failures}): ${(err as Error).message}; retrying in ${Math.round(wait)}ms`,
        );
        await sleep(wait, signal);
      }
    }
    q.running = false;
  }

  /**
   * One delivery: resolves with the 2xx status once the whole answer has arrived, rejects on
   * any other status, on an error of the request or the answer, on an answer cut short, and
   * when the exchange as a whole outlasts the deadline (the socket is then destroyed, never
   * reused). It settles exactly once.
   */
  private post(d: Delivery): Promise<number> {
    const url = new URL(d.url);
    const now = Math.floor((this.opts.now?.() ?? new Date()).getTime() / 1000);
    const mod = url.protocol === 'https:' ? https : http;
    const timeoutMs = this.opts.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    const { signal } = this.opts;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | undefined, status = 0) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(status);
      };
      const fail = (err: Error) => settle(err);
      const onAbort = () => fail(new Error('stopped'));
      const timer = setTimeout(
        () => fail(new Error(`no complete answer within ${timeoutMs / 1000}s`)),
        timeoutMs,
      );
      const req = mod.request(
        url,
        {
          method: 'POST',
          agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(d.body),
            [EVENT_ID_HEADER]: d.event_id,
            [SIGNATURE_HEADER]: signature(this.opts.secret, d.body, now),
          },
        },
        (res) => {
          const code = res.statusCode ?? 0;
          res.on('error', (err) => fail(new Error(`answer failed: ${err.message}`)));
          res.on('aborted', () => fail(new Error(`HTTP ${code} answer cut short`)));
          res.on('close', () => {
            if (!res.complete) fail(new Error(`HTTP ${code} answer cut short`));
          });
          res.on('end', () => {
            if (code >= 200 && code < 300) settle(undefined, code);
            else fail(new Error(`receiver answered HTTP ${code}`));
          });
          res.resume();
        },
      );
      req.on('error', fail);
      req.on('close', () => fail(new Error('connection closed before an answer')));
      signal.addEventListener('abort', onAbort, { once: true });
      req.end(d.body);
    });
  }

  /** Resolves once state version `v` (or a later one) is on disk. */
  private durable(v: number): Promise<void> {
    if (this.written >= v) return Promise.resolve();
    return new Promise((resolve) => this.writtenWaiters.push({ version: v, resolve }));
  }

  /** Coalesced atomic writes: at most one in flight, the latest state always follows. */
  private saveState(): void {
    this.version++;
    this.dirty = true;
    if (this.writing) return;
    this.writing = (async () => {
      while (this.dirty) {
        this.dirty = false;
        const v = this.version;
        try {
          await writeFileAtomic(this.opts.config.webhook.stateFile, JSON.stringify(this.state));
        } catch (err) {
          // Deliveries still go out; only what a restart remembers is at risk, and that is logged.
          this.opts.log('error', `webhook: cannot write state file: ${(err as Error).message}`);
        }
        this.written = v;
        const ready = this.writtenWaiters.filter((w) => w.version <= v);
        this.writtenWaiters = this.writtenWaiters.filter((w) => w.version > v);
        for (const w of ready) w.resolve();
      }
      this.writing = undefined;
    })();
  }

  private async flushState(): Promise<void> {
    await this.chain;
    while (this.writing) await this.writing;
  }

  close(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }
}
