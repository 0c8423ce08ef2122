import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../model/errors.js';
import type { ArgsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, note } from './shared.js';

export interface RuleRmOptions {
  names: string[];
}

export function define() {
  return new Command('rm')
    .alias('delete')
    .description('Delete Access Monitoring Rules by name.')
    .argument('<names...>', 'rule names');
}

export function parse([given]: ArgsOf<typeof define>): RuleRmOptions {
  const names = given.map((x) => x.trim());
  if (names.length === 0 || names.some((n) => n === '')) throw new UsageError('empty rule name');
  return { names };
}

export async function run(ctx: Context, opts: RuleRmOptions): Promise<number> {
  const conn = await ctx.connect();
  const { deleteRule } = await import('../../client/rules.js');
  for (const name of opts.names) {
    await deleteRule(conn, name, callOpts(ctx));
    note(ctx, `access_monitoring_rule "${name}" has been deleted`);
  }
  return 0;
}
