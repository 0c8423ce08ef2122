/**
 * Durable storage of Access Monitoring Rules: an append-only log (append-log.ts) of rule
 * records (PUT: the AccessMonitoringRule in protobuf, DELETE: its name), replayed on open, with
 * the request log's guarantees (fsync before a change is acknowledged, damage copied aside,
 * a lost log refused). Changes are serialized, so two writers never lose each other's rule.
 *
 * Until issue 22 the whole set was one protobuf file rewritten on every change (3,655 rules:
 * 8.7 MB written per create); such a file is read once, written as the log, and removed.
 */

import {
  type AccessMonitoringRule,
  ListAccessMonitoringRulesResponse,
  AccessMonitoringRule as RuleMessage,
} from '../../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules.js';
import { AppendLog, type AppendLogOptions } from './append-log.js';
import { type Codec, convertLegacy } from './store-log.js';

/** Rules as log records. */
export const RULE_CODEC: Codec<AccessMonitoringRule> = {
  noun: 'access monitoring rule',
  logName: 'access monitoring rule log',
  encode: (rule) => RuleMessage.encode(rule).finish(),
  decode: (body) => RuleMessage.decode(body),
  keyOf: (rule) => rule.metadata?.name ?? '',
  revisionOf: (rule) => Number(rule.metadata?.revision),
};

/** What a committed rule change did. */
export interface RuleCommit {
  op: 'put' | 'delete';
  name: string;
  rule: AccessMonitoringRule | undefined;
}

export interface RuleStoreOptions extends AppendLogOptions {
  /** A whole-set rules file of an earlier version, converted to the log when there is none. */
  legacyPath?: string;
}

export class RuleStore {
  private readonly rules = new Map<string, AccessMonitoringRule>();
  private readonly listeners: ((c: RuleCommit) => void)[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private revision = 0;

  private constructor(private readonly file: AppendLog<AccessMonitoringRule>) {}

  get path(): string {
    return this.file.path;
  }

  /** Opens (or creates) the rule log at `path` (append-log.ts: what is refused, what is copied aside). */
  static async open(path: string, opts: RuleStoreOptions = {}): Promise<RuleStore> {
    const id = opts.record?.id;
    if (opts.legacyPath && id) {
      await convertLegacy(path, opts.legacyPath, {
        id,
        recorded: opts.record?.minBytes !== undefined,
        codec: RULE_CODEC,
        decode: (data) => ListAccessMonitoringRulesResponse.decode(data).rules,
      });
    }
    const { log, live, revision } = await AppendLog.open(path, RULE_CODEC, opts);
    const store = new RuleStore(log);
    for (const [k, v] of live) store.rules.set(k, v);
    store.revision = revision;
    return store;
  }

  get(name: string): AccessMonitoringRule | undefined {
    return this.rules.get(name);
  }

  /** Every rule, ordered by name. */
  list(): AccessMonitoringRule[] {
    return [...this.rules.values()].sort((a, b) => (a.metadata!.name < b.metadata!.name ? -1 : 1));
  }

  onCommit(listener: (c: RuleCommit) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Runs `fn` on the current rule (undefined when absent) under the store's lock; the rule it
   * returns is stored (`null` deletes, `undefined` changes nothing). An error leaves everything
   * unchanged; a write that does not reach the disk fails as every store's does (append-log.ts,
   * storeFailed).
   */
  mutate(
    name: string,
    fn: (current: AccessMonitoringRule | undefined) => AccessMonitoringRule | null | undefined,
  ): Promise<RuleCommit | undefined> {
    const run = this.chain.then(async () => {
      this.file.checkOpen();
      const next = fn(this.rules.get(name));
      if (next === undefined) return undefined;
      if (next === null) {
        await this.file.delete(name);
        this.rules.delete(name);
      } else {
        next.metadata = { ...next.metadata!, revision: String(this.revision + 1) };
        await this.file.put(next);
        this.revision += 1;
        this.rules.set(name, next);
      }
      const commit: RuleCommit = { op: next === null ? 'delete' : 'put', name, rule: next ?? undefined };
      for (const l of this.listeners) l(commit);
      return commit;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Waits for queued writes, then closes the log. */
  async close(): Promise<void> {
    await this.chain;
    await this.file.close();
  }
}
