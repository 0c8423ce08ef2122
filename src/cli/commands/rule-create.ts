import { Command } from '@commander-js/extra-typings';
import { describeFsError, readRegularFile } from '../../identity/files.js';
import { UsageError } from '../../model/errors.js';
import { type AccessMonitoringRule, rulesFromYaml } from '../../model/rule.js';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, emit, note } from './shared.js';

export interface RuleFileOptions {
  file: string;
}

/**
 * The text of a file named by a flag; a missing or unreadable file, or one that is not a
 * regular file (a FIFO would block), is a usage error naming it.
 */
export async function readInputFile(file: string): Promise<string> {
  try {
    return (await readRegularFile(file)).toString('utf8');
  } catch (err) {
    throw new UsageError(`cannot read "${file}": ${describeFsError(err)}`);
  }
}

/** The rules of `-f FILE`, all checked before anything is sent. */
export async function readRuleFile(file: string): Promise<AccessMonitoringRule[]> {
  return rulesFromYaml(await readInputFile(file), file);
}

export function fileCommand(name: 'create' | 'update', description: string) {
  return new Command(name)
    .description(description)
    .requiredOption('-f, --file <path>', 'YAML with one or more access_monitoring_rule documents');
}

export function define() {
  return fileCommand(
    'create',
    'Create Access Monitoring Rules from a YAML file, as `tctl create` takes them (several documents allowed).\n' +
      'Every document is checked first; a rule that exists already is an error (use update).',
  );
}

export function parse(_args: [], flags: FlagsOf<typeof define>): RuleFileOptions {
  const { file } = flags;
  if (!file) throw new UsageError('missing -f FILE');
  return { file };
}

/** Sends each rule with `send`; prints the stored rules. */
export async function sendRules(
  ctx: Context,
  opts: RuleFileOptions,
  verb: 'created' | 'updated',
): Promise<number> {
  const rules = await readRuleFile(opts.file);
  const { createRule, updateRule } = await import('../../client/rules.js');
  const send = verb === 'created' ? createRule : updateRule;
  const conn = await ctx.connect();
  const done: AccessMonitoringRule[] = [];
  for (const rule of rules) {
    done.push(await send(conn, rule, callOpts(ctx)));
    if (ctx.format === 'text') note(ctx, `access_monitoring_rule "${rule.metadata.name}" has been ${verb}`);
  }
  if (ctx.format !== 'text') await emit(ctx, done, () => {});
  return 0;
}

export async function run(ctx: Context, opts: RuleFileOptions): Promise<number> {
  return sendRules(ctx, opts, 'created');
}
