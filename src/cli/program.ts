import { readFileSync } from 'node:fs';
import { Command, type CommandUnknownOpts, type OptionValues } from '@commander-js/extra-typings';
import { UsageError } from '../model/errors.js';
import type { CommandModule } from './command.js';
import * as completion from './commands/completion.js';
import * as exec from './commands/exec.js';
import * as lockLs from './commands/lock-ls.js';
import * as lockRm from './commands/lock-rm.js';
import * as requestApprove from './commands/request-approve.js';
import * as requestCaps from './commands/request-caps.js';
import * as requestCreate from './commands/request-create.js';
import * as requestDeny from './commands/request-deny.js';
import * as requestDrop from './commands/request-drop.js';
import * as requestLock from './commands/request-lock.js';
import * as requestLs from './commands/request-ls.js';
import * as requestReview from './commands/request-review.js';
import * as requestRm from './commands/request-rm.js';
import * as requestSearch from './commands/request-search.js';
import * as requestShow from './commands/request-show.js';
import * as requestWait from './commands/request-wait.js';
import * as requestWatch from './commands/request-watch.js';
import * as ruleCreate from './commands/rule-create.js';
import * as ruleLs from './commands/rule-ls.js';
import * as ruleRm from './commands/rule-rm.js';
import * as ruleShow from './commands/rule-show.js';
import * as ruleTest from './commands/rule-test.js';
import * as ruleUpdate from './commands/rule-update.js';
import * as serverStart from './commands/server-start.js';
import * as signHelper from './commands/sign-helper.js';
import * as webhookConfigure from './commands/webhook-configure.js';
import * as webhookServe from './commands/webhook-serve.js';
import type { Context } from './context.js';
import { helpTopics } from './help-topics.js';
import { addGlobalOptions } from './options.js';

export interface ProgramHooks {
  /** Receives the exit code a command returned. */
  onExit?(code: number): void;
}

let cachedVersion: string | undefined;

/** The package version; package.json sits two levels above both src/cli and dist/cli. */
export function packageVersion(): string {
  if (cachedVersion === undefined) {
    const url = new URL('../../package.json', import.meta.url);
    cachedVersion = (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  }
  return cachedVersion;
}

/** Marks commander's usage errors with the command they concern, for main's hint. */
function reportUsageAgainst(cmd: CommandUnknownOpts): void {
  cmd.exitOverride((err) => {
    throw Object.assign(err, { commandPath: commandPath(cmd) });
  });
}

/** `access request create` for the create command. */
export function commandPath(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function attach<A extends unknown[], F extends OptionValues, O>(
  parent: CommandUnknownOpts,
  mod: CommandModule<A, F, O>,
  ctx: Context,
  hooks: ProgramHooks,
): void {
  const cmd = mod.define();
  if (!cmd.summary()) cmd.summary(cmd.description().split('\n')[0]);
  cmd.copyInheritedSettings(parent);
  addGlobalOptions(cmd, 'subcommand');
  parent.addCommand(cmd);
  reportUsageAgainst(cmd);
  cmd.action(async () => {
    const code = await mod.run(ctx, mod.parse(cmd.processedArgs, cmd.opts()));
    hooks.onExit?.(code ?? 0);
  });
}

function group(parent: CommandUnknownOpts, name: string, description: string): CommandUnknownOpts {
  const cmd = new Command(name).description(description);
  cmd.copyInheritedSettings(parent);
  addGlobalOptions(cmd, 'subcommand');
  parent.addCommand(cmd);
  reportUsageAgainst(cmd);
  return cmd;
}

/**
 * Builds a fresh commander tree around `ctx`. Building runs nothing, so docs, man pages
 * and completions can be generated from the same tree (habit 9).
 */
export function buildProgram(
  ctx: Context & { configure?(leaf: CommandUnknownOpts): void },
  hooks: ProgramHooks = {},
): CommandUnknownOpts {
  const io = ctx.io;
  const program = new Command('access')
    .description('Teleport Access Request workflows: request, review, approve, wait and assume access.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand(false)
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // main prints usage errors itself, as one `error:` line and a `hint:` line.
      outputError: () => {},
      getOutHelpWidth: () => (io.stdoutIsTTY ? io.columns : 100),
      getErrHelpWidth: () => (io.stderrIsTTY ? io.columns : 100),
    });
  addGlobalOptions(program, 'root');
  reportUsageAgainst(program);
  program.addHelpText(
    'after',
    `\nHelp topics (access help <topic>): ${helpTopics()
      .map((t) => t.name)
      .join(', ')}`,
  );
  program.hook('preAction', (_root, leaf) => {
    ctx.configure?.(leaf);
  });

  const request = group(program, 'request', 'Create, review and assume access requests.');
  request.alias('requests');
  attach(request, requestLs, ctx, hooks);
  attach(request, requestShow, ctx, hooks);
  attach(request, requestSearch, ctx, hooks);
  attach(request, requestCreate, ctx, hooks);
  attach(request, requestWait, ctx, hooks);
  attach(request, requestReview, ctx, hooks);
  attach(request, requestApprove, ctx, hooks);
  attach(request, requestDeny, ctx, hooks);
  attach(request, requestDrop, ctx, hooks);
  attach(request, requestRm, ctx, hooks);
  attach(request, requestLock, ctx, hooks);
  attach(request, requestWatch, ctx, hooks);
  attach(request, requestCaps, ctx, hooks);

  attach(program, exec, ctx, hooks);

  const lock = group(program, 'lock', 'List and remove the locks on access requests.');
  attach(lock, lockLs, ctx, hooks);
  attach(lock, lockRm, ctx, hooks);

  const rule = group(program, 'rule', 'Access Monitoring Rules: route and automatically review requests.');
  rule.alias('rules').alias('amr');
  attach(rule, ruleLs, ctx, hooks);
  attach(rule, ruleShow, ctx, hooks);
  attach(rule, ruleCreate, ctx, hooks);
  attach(rule, ruleUpdate, ctx, hooks);
  attach(rule, ruleRm, ctx, hooks);
  attach(rule, ruleTest, ctx, hooks);

  const webhook = group(
    program,
    'webhook',
    'The teleport-webhooks plugin, signed: post request changes, take callbacks.',
  );
  attach(webhook, webhookServe, ctx, hooks);
  attach(webhook, webhookConfigure, ctx, hooks);

  attach(program, signHelper, ctx, hooks);

  const server = group(program, 'server', 'Run the embedded Teleport-compatible Auth API.');
  attach(server, serverStart, ctx, hooks);

  attach(program, completion, ctx, hooks);
  addHelpCommand(program, hooks);
  return program;
}

/**
 * `access help [topic|command...]`: the root help, a topic page (environment, exit-codes,
 * formats, resource-ids), or a command's help, on stdout with exit 0.
 */
function addHelpCommand(program: CommandUnknownOpts, hooks: ProgramHooks): void {
  const io = () => program.configureOutput();
  const cmd = new Command('help')
    .description('Show help for a command or a topic (environment, exit-codes, formats, resource-ids).')
    .argument('[topic...]', 'a help topic or a command path, e.g. `request create`');
  cmd.copyInheritedSettings(program);
  addGlobalOptions(cmd, 'subcommand');
  cmd.action((words: string[]) => {
    const out = io().writeOut ?? (() => {});
    if (words.length === 0) {
      out(program.helpInformation());
    } else {
      const topic = helpTopics().find((t) => t.name === words[0]);
      if (topic && words.length === 1) {
        out(`${topic.title}\n\n${topic.text}\n`);
      } else {
        let target: CommandUnknownOpts | undefined = program;
        for (const w of words) {
          target = target?.commands.find((c) => c.name() === w || c.aliases().includes(w));
        }
        if (!target) {
          const names = helpTopics()
            .map((t) => t.name)
            .join(', ');
          throw new UsageError(
            `no help topic or command ${JSON.stringify(words.join(' '))}`,
            `topics: ${names}; commands: ${program.commands.map((c) => c.name()).join(', ')}`,
          );
        }
        out(target.helpInformation());
      }
    }
    hooks.onExit?.(0);
  });
  program.addCommand(cmd);
  reportUsageAgainst(cmd);
}
