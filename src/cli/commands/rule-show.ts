import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../model/errors.js';
import type { AccessMonitoringRule } from '../../model/rule.js';
import type { ArgsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, emit } from './shared.js';

export interface RuleShowOptions {
  name: string;
}

export function define() {
  return new Command('show')
    .alias('get')
    .description('Show one Access Monitoring Rule (YAML output loads back with `access rule update -f`).')
    .argument('<name>', 'rule name');
}

export function parse([given]: ArgsOf<typeof define>): RuleShowOptions {
  const name = given.trim();
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
