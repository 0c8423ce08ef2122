/**
 * Durable storage of Access Monitoring Rules. Rules are few and small, so the whole set is one
 * protobuf file, replaced atomically (temp file, fsync, rename, fsync of the directory) before
 * a change is acknowledged; changes are serialized, so two writers never lose each other's rule.
 */

import { readFile } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import {
  type AccessMonitoringRule,
  ListAccessMonitoringRulesResponse,
} from '../../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules.js';
import { ServerError } from '../types.js';
import { replaceFile } from './durable-file.js';

/** The rules file inside the data directory. */
export const RULES_FILE = 'access_monitoring_rules.pb';

/** What a committed rule change did. */
export interface RuleCommit {
  op: 'put' | 'delete';
  name: string;
  rule: AccessMonitoringRule | undefined;
}

export class RuleStore {
  private readonly rules = new Map<string, AccessMonitoringRule>();
  private readonly listeners: ((c: RuleCommit) => void)[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private revision = 0;

  private constructor(readonly path: string) {}

  /** Opens (or starts empty) the rules file at `path`. */
  static async open(path: string): Promise<RuleStore> {
    const store = new RuleStore(path);
    let data: Buffer | undefined;
    try {
      data = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (data) {
      for (const rule of ListAccessMonitoringRulesResponse.decode(data).rules) {
        store.rules.set(rule.metadata?.name ?? '', rule);
        const rev = Number(rule.metadata?.revision);
        if (Number.isFinite(rev) && rev > store.revision) store.revision = rev;
      }
    }
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
   * returns is stored (`null` deletes, `undefined` changes nothing). An error leaves everything unchanged.
   */
  mutate(
    name: string,
    fn: (current: AccessMonitoringRule | undefined) => AccessMonitoringRule | null | undefined,
  ): Promise<RuleCommit | undefined> {
    const run = this.chain.then(async () => {
      const next = fn(this.rules.get(name));
      if (next === undefined) return undefined;
      const all = new Map(this.rules);
      if (next === null) all.delete(name);
      else {
        next.metadata = { ...next.metadata!, revision: String(this.revision + 1) };
        all.set(name, next);
      }
      await this.persist([...all.values()]);
      if (next !== null) this.revision += 1;
      this.rules.clear();
      for (const [k, v] of all) this.rules.set(k, v);
      const commit: RuleCommit = { op: next === null ? 'delete' : 'put', name, rule: next ?? undefined };
      for (const l of this.listeners) l(commit);
      return commit;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async persist(rules: AccessMonitoringRule[]): Promise<void> {
    const data = ListAccessMonitoringRulesResponse.encode({ rules, nextPageToken: '' }).finish();
    try {
      await replaceFile(this.path, Buffer.from(data));
    } catch (err) {
      throw new ServerError(
        status.UNAVAILABLE,
        `access monitoring rules: write failed: ${(err as Error).message}`,
      );
    }
  }
}
