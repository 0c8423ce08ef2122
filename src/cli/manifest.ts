/**
 * The command tree as the root and group help list it: names, aliases, argument usage and
 * summaries, with each command module behind a dynamic import. `access --help`,
 * `access request --help` and the like are answered from here without loading any command;
 * a command's module loads only when it runs or its own help is asked for (program.ts).
 * test/unit/cli/manifest.test.ts checks names, aliases and arguments against the modules.
 */
import type { CommandUnknownOpts, OptionValues } from '@commander-js/extra-typings';
import type { CommandModule } from './command.js';
import type { Context } from './context.js';

/** A command module once loaded, its types erased (leaf() checked them). */
export interface LoadedCommand {
  define(): CommandUnknownOpts;
  parse(args: unknown[], flags: OptionValues): unknown;
  run(ctx: Context, opts: unknown): Promise<number | undefined>;
}

export interface LeafEntry {
  readonly kind: 'leaf';
  readonly name: string;
  readonly aliases: readonly string[];
  /** The arguments as define() declares them, e.g. `<ids...>`. */
  readonly args: readonly string[];
  /** The one line the parent's help, completions and man pages show. */
  readonly summary: string;
  load(): Promise<LoadedCommand>;
}

export interface GroupEntry {
  readonly kind: 'group';
  readonly name: string;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly commands: readonly LeafEntry[];
}

interface LeafSpec {
  aliases?: readonly string[];
  args?: readonly string[];
  summary: string;
}

/** A leaf entry; the module's parse must accept exactly what its define declares. */
function leaf<A extends unknown[], F extends OptionValues, O>(
  name: string,
  spec: LeafSpec,
  load: () => Promise<CommandModule<A, F, O>>,
): LeafEntry {
  return {
    kind: 'leaf',
    name,
    aliases: spec.aliases ?? [],
    args: spec.args ?? [],
    summary: spec.summary,
    load: load as unknown as () => Promise<LoadedCommand>,
  };
}

function group(
  name: string,
  description: string,
  commands: readonly LeafEntry[],
  aliases: readonly string[] = [],
): GroupEntry {
  return { kind: 'group', name, aliases, description, commands };
}

/** The top-level commands in help order (`help` itself is added by program.ts). */
export const COMMANDS: readonly (GroupEntry | LeafEntry)[] = [
  group(
    'request',
    'Create, review and assume access requests.',
    [
      leaf(
        'ls',
        {
          aliases: ['list'],
          summary: 'List access requests, newest first; filters are applied by the server.',
        },
        () => import('./commands/request-ls.js'),
      ),
      leaf(
        'show',
        {
          aliases: ['get'],
          args: ['<ids...>'],
          summary:
            'Show every field of one or more requests: reviews, threshold progress, annotations, resources.',
        },
        () => import('./commands/request-show.js'),
      ),
      leaf(
        'search',
        {
          summary:
            'Search for resources you may request (search_as_roles), or list requestable roles with --roles.',
        },
        () => import('./commands/request-search.js'),
      ),
      leaf(
        'create',
        {
          aliases: ['new'],
          args: ['[resources...]'],
          summary:
            'Create an access request for roles or resources and, by default, wait for it to be resolved.',
        },
        () => import('./commands/request-create.js'),
      ),
      leaf(
        'wait',
        {
          args: ['<id>'],
          summary: 'Wait for a request to be resolved (resume after `create --nowait`, a timeout or Ctrl-C).',
        },
        () => import('./commands/request-wait.js'),
      ),
      leaf(
        'assume',
        {
          args: ['<id>'],
          summary: 'Assume an approved request without waiting, as `tsh login --request-id` does.',
        },
        () => import('./commands/request-assume.js'),
      ),
      leaf(
        'review',
        {
          args: ['<id>'],
          summary: 'Submit your review of a request; the request is resolved once its thresholds are met.',
        },
        () => import('./commands/request-review.js'),
      ),
      leaf(
        'approve',
        {
          args: ['<ids...>'],
          summary: 'Approve pending requests directly (needs the access_request update rule).',
        },
        () => import('./commands/request-approve.js'),
      ),
      leaf(
        'deny',
        {
          args: ['<ids...>'],
          summary: 'Deny pending requests directly (needs the access_request update rule).',
        },
        () => import('./commands/request-deny.js'),
      ),
      leaf(
        'drop',
        {
          args: ['[ids...]'],
          summary: 'Re-issue your certificate without the given assumed requests (all when none are given).',
        },
        () => import('./commands/request-drop.js'),
      ),
      leaf(
        'rm',
        {
          args: ['<ids...>'],
          summary: 'Delete access requests (needs the access_request delete rule).',
        },
        () => import('./commands/request-rm.js'),
      ),
      leaf(
        'lock',
        {
          args: ['<id>'],
          summary:
            'Revoke an access request: a Teleport lock makes the Auth Service refuse every certificate carrying it.',
        },
        () => import('./commands/request-lock.js'),
      ),
      leaf(
        'watch',
        { summary: 'Stream changes to access requests until interrupted, one line per change.' },
        () => import('./commands/request-watch.js'),
      ),
      leaf(
        'caps',
        {
          aliases: ['capabilities'],
          summary: 'Show which roles you (or another user) may request and who is suggested to review.',
        },
        () => import('./commands/request-caps.js'),
      ),
    ],
    ['requests'],
  ),
  leaf(
    'exec',
    {
      args: ['[command...]'],
      summary:
        'Run one command with elevated access, reusing or creating a request and waiting for approval.',
    },
    () => import('./commands/exec.js'),
  ),
  group('lock', 'List and remove the locks on access requests.', [
    leaf(
      'ls',
      { summary: 'List the locks on access requests (needs list and read on lock).' },
      () => import('./commands/lock-ls.js'),
    ),
    leaf(
      'rm',
      {
        args: ['<names...>'],
        summary: 'Remove locks by name (needs delete on lock).',
      },
      () => import('./commands/lock-rm.js'),
    ),
  ]),
  group(
    'rule',
    'Access Monitoring Rules: route and automatically review requests.',
    [
      leaf(
        'ls',
        {
          aliases: ['list'],
          summary: 'List Access Monitoring Rules: what each routes or reviews, and its condition.',
        },
        () => import('./commands/rule-ls.js'),
      ),
      leaf(
        'show',
        {
          aliases: ['get'],
          args: ['<name>'],
          summary: 'Show one Access Monitoring Rule (YAML output loads back with `access rule update -f`).',
        },
        () => import('./commands/rule-show.js'),
      ),
      leaf(
        'create',
        {
          summary:
            'Create Access Monitoring Rules from a YAML file, as `tctl create` takes them (several documents allowed).',
        },
        () => import('./commands/rule-create.js'),
      ),
      leaf(
        'update',
        { summary: 'Replace existing Access Monitoring Rules with the ones in a YAML file.' },
        () => import('./commands/rule-update.js'),
      ),
      leaf(
        'rm',
        { aliases: ['delete'], args: ['<names...>'], summary: 'Delete Access Monitoring Rules by name.' },
        () => import('./commands/rule-rm.js'),
      ),
      leaf(
        'test',
        {
          args: ['[name]'],
          summary:
            'Evaluate Access Monitoring Rules against a request: whether each matches, and what it would do.',
        },
        () => import('./commands/rule-test.js'),
      ),
    ],
    ['rules', 'amr'],
  ),
  group('webhook', 'The teleport-webhooks plugin, signed: post request changes, take callbacks.', [
    leaf(
      'serve',
      { summary: 'Run the webhook bridge: POST signed access request changes to receivers.' },
      () => import('./commands/webhook-serve.js'),
    ),
    leaf(
      'configure',
      {
        summary: 'Print a commented configuration template for `access webhook serve`.',
      },
      () => import('./commands/webhook-configure.js'),
    ),
  ]),
  leaf(
    'sign-helper',
    { summary: 'Issue credentials for an Access Request plugin, like `tctl auth sign --format=tls`.' },
    () => import('./commands/sign-helper.js'),
  ),
  group('server', 'Run the embedded Teleport-compatible Auth API.', [
    leaf(
      'start',
      {
        summary:
          'Start the embedded Auth API (a local stand-in for a Teleport cluster) until Ctrl-C or SIGTERM.',
      },
      () => import('./commands/server-start.js'),
    ),
  ]),
  leaf(
    'status',
    {
      aliases: ['whoami'],
      summary: 'Show who your credentials say you are, as `tsh status` does.',
    },
    () => import('./commands/status.js'),
  ),
  leaf(
    'mcp',
    {
      summary: 'Serve the access-request tools to AI agents over MCP on stdio; reviews stay with people.',
    },
    () => import('./commands/mcp.js'),
  ),
  leaf(
    'completion',
    { args: ['<shell>'], summary: 'Print a shell completion script, generated from the command tree.' },
    () => import('./commands/completion.js'),
  ),
];

/** Every leaf, with the names from the root (`['request', 'ls']`). */
export function leaves(): { path: string[]; entry: LeafEntry }[] {
  return COMMANDS.flatMap((c) =>
    c.kind === 'leaf'
      ? [{ path: [c.name], entry: c }]
      : c.commands.map((entry) => ({ path: [c.name, entry.name], entry })),
  );
}

/**
 * The leaf the leading words of argv name (`request ls`, `req list`), options skipped; undefined
 * when they name none. A guess (an option's value could be taken for a word): runProgram loads
 * it before the first parse, and a wrong guess costs only that load.
 */
export function leafNamedBy(argv: readonly string[]): LeafEntry | undefined {
  const names = (e: GroupEntry | LeafEntry) => [e.name, ...e.aliases];
  const words = argv.filter((a) => !a.startsWith('-'));
  const top = COMMANDS.find((c) => names(c).includes(words[0] ?? ''));
  if (top?.kind !== 'group') return top;
  return top.commands.find((c) => names(c).includes(words[1] ?? ''));
}
