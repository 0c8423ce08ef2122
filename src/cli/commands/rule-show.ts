import { Command } from 'commander';
import { UsageError } from '../../model/errors.js';
import type { AccessMonitoringRule } from '../../model/rule.js';
import type { Context } from '../context.js';
import { callOpts, emit } from './shared.js';

export interface RuleShowOptions {
  name: string;
}

export function define(): Command {
  return new Command('show')
    .alias('get')
    .description('Show one Access Monitoring Rule (YAML output loads back with `access rule update -f`).')
    .argument('<name>', 'rule name');
}

export function parse(args: unknown[]): RuleShowOptions {
  const name = String(args[0] ?? '').trim();
  if (name === '') throw new UsageError('empty rule name');
  return { name };
}

export async function fetchRule(ctx: Context, name: string): Promise<AccessMonitoringRule> {
  const { getRule } = await import('../../client/rules.js');
  return getRule(await ctx.connect(), name, callOpts(ctx));
}

export async function run(ctx: Context, opts: RuleShowOptions): Promise<number> {
  const rule = await fetchRule(ctx, opts.name);
  const { ruleDetail } = await import('../../render/rule.js');
  await emit(ctx, rule, () => {
    ctx.io.stdout.write(ruleDetail(rule));
  });
  return 0;
}
