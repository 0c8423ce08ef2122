import { Command } from '@commander-js/extra-typings';
import type { AccessMonitoringRule } from '../../model/rule.js';
import { printTable } from '../../render/table.js';
import type { Context } from '../context.js';
import { callOpts, emit } from './shared.js';

export type RuleLsOptions = Record<string, never>;

export function define() {
  return new Command('ls')
    .alias('list')
    .description('List Access Monitoring Rules: what each routes or reviews, and its condition.');
}

export function parse(): RuleLsOptions {
  return {};
}

/** Every rule, page by page. */
export async function listRules(ctx: Context): Promise<AccessMonitoringRule[]> {
  const { listRules: list } = await import('../../client/rules.js');
  return list(await ctx.connect(), callOpts(ctx));
}

export async function run(ctx: Context): Promise<number> {
  const rules = await listRules(ctx);
  const { RULE_COLUMNS, RULE_TABLE, ruleRow } = await import('../../render/rule.js');
  await emit(ctx, rules, async () => {
    await printTable(ctx.io, RULE_COLUMNS, rules.map(ruleRow), RULE_TABLE);
  });
  return 0;
}
