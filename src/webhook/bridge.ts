/**
 * `access webhook serve`: posts access request changes to receivers, at least once.
 *
 * Every change becomes an event with a stable ID (`<request id>:<revision>`, or
 * `<request id>:deleted`). The small state file holds, per request, the last revision seen and
 * the deliveries not yet acknowledged; it is replaced atomically. After each (re)connection the
 * bridge waits for the watch's INIT, lists every request and derives what it missed (a new
 * revision, or a request gone), so neither a lost stream nor a restart (even kill -9) loses a
 * transition; a receiver may see an event twice and should dedupe on the event ID.
 * Each receiver has its own queue, retried with capped, jittered backoff: one that keeps
 * failing is logged and never holds up the others.
 */
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Connection } from '../client/connect.js';
import { AccessMonitoringRulesServiceDefinition } from '../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules_service.js';
import type { AccessRequestV3 } from '../gen/teleport/legacy/types/types.js';
import { writeFileAtomic } from '../identity/files.js';
import type { AccessRequest } from '../model/request.js';
import { checkReceiverUrl, type StateKey, type WebhookConfig } from './config.js';
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
  cluster: string;
  log: (line: string) => void;
  signal: AbortSignal;
  now?: () => Date;
  /** Backoff bounds, ms (tests shorten them). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

const STATE_OF: Record<string, StateKey> = { PENDING: 'Pending', APPROVED: 'Approved', DENIED: 'Denied' };
const WEBHOOK_PLUGIN = 'webhook';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
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
  private rules: { condition: string; recipients: string[] }[] = [];
  private rulesWarned = false;
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
    if (opts.config.webhook.caFile)
      ca = [...rootCertificates, await readFile(opts.config.webhook.caFile, 'utf8')];
    const bridge = new WebhookBridge(opts, ca);
    try {
      const saved = JSON.parse(await readFile(opts.config.webhook.stateFile, 'utf8')) as StateFile;
      if (saved.version === 1) bridge.state = saved;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        opts.log(
          `webhook: state file ${opts.config.webhook.stateFile} unreadable, starting afresh: ${(err as Error).message}`,
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
    const { requestFromProto } = await import('../client/map.js');
    let failures = 0;
    while (!signal.aborted) {
      try {
        // Rule changes re-read the routing rules; an identity that may not read them still
        // gets the requests (partial success) and routes everything to webhook_url.
        const watch = {
          kinds: [
            { kind: 'access_request', filter: {} },
            { kind: 'access_monitoring_rule', filter: {} },
          ],
          allowPartialSuccess: true,
        };
        for await (const event of conn.auth.watchEvents(watch, { signal })) {
          const res = event.resource;
          if (event.type === 0) {
            failures = 0;
            await this.refreshRules();
            await this.catchUp(requestFromProto);
          } else if (event.type === 1 && res?.$case === 'accessRequest') {
            this.onPut(res.value, requestFromProto);
          } else if (res?.$case === 'resourceHeader' && res.value.kind === 'access_request') {
            this.onDelete(res.value.metadata?.name ?? '');
          } else if (
            res?.$case === 'accessMonitoringRule' ||
            (res?.$case === 'resourceHeader' && res.value.kind === 'access_monitoring_rule')
          ) {
            this.chain = this.chain.then(() => this.refreshRules());
          }
        }
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        log(`webhook: watch failed (${(err as Error).message}); reconnecting`);
      }
      await sleep(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)) * (0.5 + Math.random() / 2), signal);
    }
    await this.flushState();
  }

  private async refreshRules(): Promise<void> {
    const { conn, signal, log } = this.opts;
    try {
      const out: { condition: string; recipients: string[] }[] = [];
      let pageToken = '';
      do {
        const page = await conn
          .service(AccessMonitoringRulesServiceDefinition)
          .listAccessMonitoringRulesWithFilter(
            {
              pageSize: 500,
              pageToken,
              subjects: ['access_request'],
              notificationName: WEBHOOK_PLUGIN,
              automaticReviewName: '',
            },
            { signal },
          );
        for (const r of page.rules) {
          out.push({
            condition: r.spec?.condition ?? '',
            recipients: r.spec?.notification?.recipients ?? [],
          });
        }
        pageToken = page.nextPageToken;
      } while (pageToken);
      this.rules = out;
    } catch (err) {
      if (!this.rulesWarned) {
        this.rulesWarned = true;
        log(
          `webhook: cannot read access_monitoring_rules (${(err as Error).message}); everything goes to webhook_url`,
        );
      }
    }
  }

  /** Receivers of a request: the recipients of matching `webhook` rules, else webhook_url. */
  private async targets(req: AccessRequest): Promise<string[]> {
    const { config, log } = this.opts;
    const urls = new Set<string>();
    if (this.rules.length > 0) {
      const { compileCondition, requestContext } = await import('../model/rule-condition.js');
      const ctx = requestContext(req);
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
            log(`webhook: skipping recipient ${JSON.stringify(r)}: ${(err as Error).message}`);
          }
        }
      }
    }
    if (urls.size === 0) urls.add(config.webhook.url);
    return [...urls];
  }

  private async catchUp(fromProto: (r: AccessRequestV3) => AccessRequest): Promise<void> {
    await this.chain;
    const live = new Set<string>();
    for await (const r of this.opts.conn.auth.getAccessRequestsV2({}, { signal: this.opts.signal })) {
      live.add(r.metadata?.name ?? '');
      await this.onPutAsync(r, fromProto);
    }
    for (const id of Object.keys(this.state.seen)) if (!live.has(id)) this.onDelete(id);
  }

  private chain: Promise<void> = Promise.resolve();

  /** Keeps event handling in order even though routing is async. */
  private onPut(r: AccessRequestV3, fromProto: (r: AccessRequestV3) => AccessRequest): void {
    this.chain = this.chain
      .then(() => this.onPutAsync(r, fromProto))
      .catch((err: Error) => this.opts.log(`webhook: ${err.message}`));
  }

  private async onPutAsync(
    r: AccessRequestV3,
    fromProto: (r: AccessRequestV3) => AccessRequest,
  ): Promise<void> {
    const id = r.metadata?.name ?? '';
    const revision = r.metadata?.revision ?? '';
    if (this.state.seen[id] === revision) return;
    this.state.seen[id] = revision;
    const req = fromProto(r);
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
    const min = this.opts.retryMinMs ?? 500;
    const max = this.opts.retryMaxMs ?? 60_000;
    let failures = 0;
    while (q.items.length > 0 && !signal.aborted) {
      const d = q.items[0];
      try {
        await this.durable(this.needs.get(d) ?? 0);
        await this.post(d);
        q.items.shift();
        failures = 0;
        this.state.pending = this.state.pending.filter((p) => p !== d);
        this.delivered++;
        this.saveState();
        for (const l of this.listeners) l({ url: d.url, event_id: d.event_id });
      } catch (err) {
        failures++;
        const wait = Math.min(max, min * 2 ** Math.min(failures - 1, 16)) * (0.5 + Math.random() / 2);
        log(
          `webhook: delivery of ${d.event_id} to ${url} failed (attempt ${failures}): ${(err as Error).message}; retrying in ${Math.round(wait)}ms`,
        );
        await sleep(wait, signal);
      }
    }
    q.running = false;
  }

  private post(d: Delivery): Promise<void> {
    const url = new URL(d.url);
    const now = Math.floor((this.opts.now?.() ?? new Date()).getTime() / 1000);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
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
          timeout: 10_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve();
            else reject(new Error(`receiver answered HTTP ${code}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out after 10s')));
      req.on('error', reject);
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
          this.opts.log(`webhook: cannot write state file: ${(err as Error).message}`);
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
