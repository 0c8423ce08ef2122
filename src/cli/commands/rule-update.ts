import type { Context } from '../context.js';
import { fileCommand, type RuleFileOptions, sendRules } from './rule-create.js';

export { parse } from './rule-create.js';

export function define() {
  return fileCommand('update', 'Replace existing Access Monitoring Rules with the ones in a YAML file.');
}

export async function run(ctx: Context, opts: RuleFileOptions): Promise<number> {
  return sendRules(ctx, opts, 'updated');
}
