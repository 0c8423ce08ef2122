import { type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import { parseHostPort } from '../model/address.js';
import { DEFAULT_RPC_TIMEOUT_MS, parseDuration } from '../model/duration.js';
import { UsageError } from '../model/errors.js';
import { FORMATS, type Format, parseFormat } from '../render/format.js';

/** The options every command accepts, after flags and environment were merged (first wins). */
export interface GlobalOptions {
  authServer?: string;
  proxy?: string;
  identity?: string;
  cert?: string;
  key?: string;
  ca?: string;
  /** Where the tsh profile lives (TELEPORT_HOME, default ~/.tsh). */
  teleportHome: string;
  /**
   * The cluster selected for search and resource IDs (--cluster, TELEPORT_CLUSTER), as tsh's
   * SiteName; access-request calls always go to the root cluster.
   */
  cluster?: string;
  format: Format;
  /** False with --no-color; NO_COLOR/FORCE_COLOR and the TTY are resolved into IO.color. */
  color: boolean;
  debug: boolean;
  /** Deadline of one unary RPC. */
  rpcTimeoutMs: number;
  tlsServerName?: string;
}

export { DEFAULT_RPC_TIMEOUT_MS };

type Env = Readonly<Record<string, string | undefined>>;

interface GlobalSpec {
  flags: string;
  description: string;
  choices?: readonly string[];
}

/**
 * The global options, in help order. Each is added to the root (visible) and, hidden, to
 * every subcommand that does not define the same flag itself, so a global flag works after
 * the subcommand too while a command's own flag of the same name (sign-helper's --format)
 * keeps its meaning there.
 */
const GLOBAL_SPECS: readonly GlobalSpec[] = [
  {
    flags: '--auth-server <host:port>',
    description: 'Auth Service gRPC address (env ACCESS_AUTH_SERVER, TELEPORT_AUTH_SERVER)',
  },
  {
    flags: '--proxy <host:port>',
    description: 'reach the Auth Service through a Proxy with TLS routing (env ACCESS_PROXY, TELEPORT_PROXY)',
  },
  {
    flags: '-i, --identity <file>',
    description:
      'identity file, as `tctl auth sign --format=file` writes (env ACCESS_IDENTITY, TELEPORT_IDENTITY_FILE)',
  },
  { flags: '--cert <file>', description: 'TLS client certificate, with --key and --ca (env ACCESS_CERT)' },
  { flags: '--key <file>', description: 'TLS private key (env ACCESS_KEY)' },
  { flags: '--ca <file>', description: 'trusted CA certificates (env ACCESS_CA)' },
  {
    flags: '--cluster <name>',
    description:
      'cluster to search and name in resource IDs, e.g. a leaf (env TELEPORT_CLUSTER); requests always go to the root',
  },
  { flags: '-f, --format <format>', description: 'output format (env ACCESS_FORMAT)', choices: FORMATS },
  { flags: '--no-color', description: 'never colour output (env NO_COLOR; FORCE_COLOR forces colour)' },
  { flags: '--debug', description: 'log each RPC and show stack traces on errors (env ACCESS_DEBUG=1)' },
  {
    flags: '--rpc-timeout <duration>',
    description: 'deadline of a single RPC, e.g. 30s (env ACCESS_RPC_TIMEOUT; default 30s)',
  },
  {
    flags: '--timeout <duration>',
    description:
      'the same as --rpc-timeout, on commands without a --timeout of their own (create and wait use it for the wait)',
  },
  {
    flags: '--tls-server-name <name>',
    description: 'server name to verify in the server certificate (default teleport.cluster.local)',
  },
];

/** The Option objects made from GLOBAL_SPECS, to tell them from a command's own flag of the same name. */
const globalOptions = new WeakSet<Option>();

function makeOption(spec: GlobalSpec, hidden: boolean): Option {
  const o = new Option(spec.flags, spec.description);
  if (spec.choices) o.choices(spec.choices);
  if (hidden) o.hideHelp();
  globalOptions.add(o);
  return o;
}

/**
 * The global Options for the root (visible), for subcommands (hidden), and for subcommands
 * with a short flag of their own (hidden, long form only). Options hold no parsed values
 * (the command does), so every command shares these; made once, as every command of every
 * invocation gets them.
 */
let made: { root: Option[]; hidden: Option[]; longOnly: Option[] } | undefined;

function globalOptionSets() {
  made ??= {
    root: GLOBAL_SPECS.map((spec) => makeOption(spec, false)),
    hidden: GLOBAL_SPECS.map((spec) => makeOption(spec, true)),
    longOnly: GLOBAL_SPECS.map((spec) =>
      makeOption({ ...spec, flags: spec.flags.replace(/^-\w, /, '') }, true),
    ),
  };
  return made;
}

/**
 * Adds the global options: visible on the root, hidden on a subcommand (its help lists
 * them under "Global Options"), skipping any flag the subcommand defines itself.
 */
export function addGlobalOptions(
  cmd: CommandUnknownOpts,
  where: 'root' | 'subcommand' = cmd.parent ? 'subcommand' : 'root',
): void {
  const sets = globalOptionSets();
  const own = new Set(cmd.options.map((o) => o.attributeName()));
  const shorts = new Set(cmd.options.map((o) => o.short));
  GLOBAL_SPECS.forEach((_, i) => {
    let o = where === 'root' ? sets.root[i] : sets.hidden[i];
    if (own.has(o.attributeName())) return;
    // A command's own short flag (`rule create -f FILE`) keeps the letter; the long form stays global.
    if (o.short && shorts.has(o.short)) o = sets.longOnly[i];
    cmd.addOption(o);
  });
}

/**
 * What a placeholder (a command whose module is not loaded, program.ts) needs of the options:
 * it is never parsed and never shows its own help, so only what its parent's help reads of it,
 * whether it has options at all (`ls|list [options]`). Every command has the global options;
 * one of them, hidden, says so, where all of them cost each run a few milliseconds to add.
 */
export function addPlaceholderOptions(cmd: CommandUnknownOpts): void {
  cmd.addOption(globalOptionSets().hidden[0]);
}

/** A flag given on the command line, looking from the leaf up to the root (the last one given wins). */
function fromCli(leaf: CommandUnknownOpts | undefined, key: string): unknown {
  for (let c: CommandUnknownOpts | null = leaf ?? null; c; c = c.parent) {
    if (c.getOptionValueSource(key) === 'cli') return c.getOptionValue(key);
  }
  return undefined;
}

/** Like fromCli, but skips commands whose flag of that name is their own (create's --timeout). */
function globalFromCli(leaf: CommandUnknownOpts | undefined, key: string): unknown {
  for (let c: CommandUnknownOpts | null = leaf ?? null; c; c = c.parent) {
    const own = c.options.find((o) => o.attributeName() === key);
    if (own && globalOptions.has(own) && c.getOptionValueSource(key) === 'cli') return c.getOptionValue(key);
  }
  return undefined;
}

function firstEnv(env: Env, ...names: string[]): string | undefined {
  return firstEnvNamed(env, ...names)?.value;
}

function firstEnvNamed(env: Env, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

/**
 * The address flag or, when no address flag was given, the first variable set; checked as
 * HOST[:PORT] so a typo is a usage error naming where it came from.
 */
function address(given: string | undefined, flagName: string, env: Env | undefined, ...names: string[]) {
  const source = given !== undefined ? { name: flagName, value: given } : env && firstEnvNamed(env, ...names);
  if (!source) return undefined;
  parseHostPort(source.value, 1, source.name);
  return source.value;
}

/**
 * Merges flags (when a parsed command is given) with the environment, flags first. Invalid
 * values (format, timeout) are usage errors naming the flag or variable they came from.
 */
export function resolveGlobalOptions(env: Env, home: string, leaf?: CommandUnknownOpts): GlobalOptions {
  const flag = (key: string) => fromCli(leaf, key) as string | undefined;

  const formatFlag = flag('format');
  const formatEnv = firstEnv(env, 'ACCESS_FORMAT');
  const format =
    formatFlag !== undefined
      ? parseFormat(formatFlag, '--format')
      : formatEnv !== undefined
        ? parseFormat(formatEnv, 'ACCESS_FORMAT')
        : 'text';

  const rpcTimeoutFlag = flag('rpcTimeout');
  const timeoutFlag = globalFromCli(leaf, 'timeout') as string | undefined;
  const timeoutEnv = firstEnv(env, 'ACCESS_RPC_TIMEOUT');
  let rpcTimeoutMs = DEFAULT_RPC_TIMEOUT_MS;
  if (rpcTimeoutFlag !== undefined) rpcTimeoutMs = parseDuration(rpcTimeoutFlag, 'rpc-timeout');
  else if (timeoutFlag !== undefined) rpcTimeoutMs = parseDuration(timeoutFlag, 'timeout');
  else if (timeoutEnv !== undefined) rpcTimeoutMs = parseDuration(timeoutEnv, 'ACCESS_RPC_TIMEOUT');
  if (rpcTimeoutMs <= 0) throw new UsageError('the RPC timeout must be greater than zero');

  const debugFlag = fromCli(leaf, 'debug') === true;
  const colorFlag = fromCli(leaf, 'color');

  // --auth-server wins over --proxy, and an identity file over a TLS trio, so a flag of one
  // kind must also hide the environment's value of the other: `--proxy p` is not overridden
  // by an exported ACCESS_AUTH_SERVER, nor `--cert/--key/--ca` by TELEPORT_IDENTITY_FILE.
  const authFlag = flag('authServer');
  const proxyFlag = flag('proxy');
  if (authFlag !== undefined && proxyFlag !== undefined) {
    throw new UsageError(
      '--auth-server and --proxy cannot be combined: connect either directly to the Auth Service or through the Proxy',
    );
  }
  const addressEnv = authFlag === undefined && proxyFlag === undefined ? env : undefined;
  const trioFlag = ['cert', 'key', 'ca'].some((k) => flag(k) !== undefined);
  const credsFlag = trioFlag || flag('identity') !== undefined;
  const fromEnv = (given: boolean, ...names: string[]) => (given ? undefined : firstEnv(env, ...names));

  return {
    authServer: address(authFlag, '--auth-server', addressEnv, 'ACCESS_AUTH_SERVER', 'TELEPORT_AUTH_SERVER'),
    proxy: address(proxyFlag, '--proxy', addressEnv, 'ACCESS_PROXY', 'TELEPORT_PROXY'),
    identity: flag('identity') ?? fromEnv(credsFlag, 'ACCESS_IDENTITY', 'TELEPORT_IDENTITY_FILE'),
    // A trio may mix flags and ACCESS_CERT/KEY/CA, but not with an identity file given as a flag.
    cert: flag('cert') ?? fromEnv(credsFlag && !trioFlag, 'ACCESS_CERT'),
    key: flag('key') ?? fromEnv(credsFlag && !trioFlag, 'ACCESS_KEY'),
    ca: flag('ca') ?? fromEnv(credsFlag && !trioFlag, 'ACCESS_CA'),
    teleportHome: firstEnv(env, 'TELEPORT_HOME') ?? `${home}/.tsh`,
    cluster: flag('cluster') ?? firstEnv(env, 'TELEPORT_CLUSTER'),
    format,
    color: colorFlag !== false,
    debug: debugFlag || env.ACCESS_DEBUG === '1',
    rpcTimeoutMs,
    tlsServerName: flag('tlsServerName'),
  };
}
