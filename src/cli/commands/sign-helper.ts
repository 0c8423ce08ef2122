import { Command, Option, type OptionValues } from '@commander-js/extra-typings';
import { parseDuration } from '../../model/duration.js';
import { UsageError } from '../../model/errors.js';
import { FORMATS, printStructured } from '../../render/format.js';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { DEFAULT_PLUGIN_USER, pluginRbacResources, pluginRbacYaml } from './sign-helper-rbac.js';

/** What is written: the `tctl auth sign --format=tls` trio, or one identity file (`--format=file`). */
export const OUT_FORMATS = ['tls', 'file'] as const;
export type OutFormat = (typeof OUT_FORMATS)[number];

/** tctl's default certificate lifetime (apidefaults.CertDuration). */
export const DEFAULT_TTL = '12h';

export interface SignHelperOptions {
  /** The user to issue credentials for; with --print-rbac alone, the user name printed. */
  user?: string;
  /** Output prefix (tls) or path (file); undefined when only printing RBAC. */
  out?: string;
  outFormat: OutFormat;
  ttlMs: number;
  /** --ttl as typed, for messages. */
  ttlText: string;
  overwrite: boolean;
  printRbac: boolean;
  verify: boolean;
}

/**
 * `--format` on this command carries two meanings with disjoint values, so both spellings
 * users know work: `tls`/`file` choose what is written (tctl auth sign), `text`/`json`/`yaml`
 * choose the output (the global option). The command's own option shadows the global one,
 * and the global resolver reads the leaf's value when it came from the command line; so a
 * file-format value is moved aside (`formatFiles`) and the output-format value and source
 * that were there before are put back, leaving the global resolver to see only output
 * formats (or fall through to the parent flag and ACCESS_FORMAT).
 */
function addFormatOption<A extends unknown[], F extends OptionValues>(cmd: Command<A, F>): void {
  const option = new Option(
    '-f, --format <format>',
    'tls or file: what to write (as tctl auth sign --format; default tls); text, json or yaml: output format',
  ).argParser((value: string) => {
    if (
      (OUT_FORMATS as readonly string[]).includes(value) ||
      (FORMATS as readonly string[]).includes(value)
    ) {
      return value;
    }
    throw new UsageError(
      `unsupported --format ${JSON.stringify(value)}: use tls or file (what to write) or text, json, yaml (output)`,
    );
  });
  // Commander stores the value in its own listener, so ours must be registered after it.
  cmd.addOption(option);
  let output: { value: unknown; source: ReturnType<Command['getOptionValueSource']> } = {
    value: undefined,
    source: undefined,
  };
  cmd.on('option:format', (value: string) => {
    if ((OUT_FORMATS as readonly string[]).includes(value)) {
      const seen = cmd.getOptionValue('formatFiles') as string[] | undefined;
      cmd.setOptionValueWithSource('formatFiles', [...(seen ?? []), value], 'cli');
      cmd.setOptionValueWithSource('format', output.value, output.source);
    } else {
      output = { value: cmd.getOptionValue('format'), source: cmd.getOptionValueSource('format') };
    }
  });
}

export function define() {
  const cmd = new Command('sign-helper')
    .description(
      'Issue credentials for an Access Request plugin (like `tctl auth sign`): a key made here, a ' +
        'certificate for --user from the Auth Service (you need impersonation rights), written as ' +
        'PREFIX.crt, PREFIX.key, PREFIX.cas (--format tls, the default) or as one identity file at ' +
        'PREFIX (--format file), followed by the plugin configuration that uses them.\n' +
        '--format accepts tctl values (tls, file) and output formats (text, json, yaml); give it twice ' +
        'for both, e.g. `--format tls -f json`, or use --out-format for the first.\n' +
        'Existing files are never replaced without --overwrite, and a failure writes nothing.',
    )
    .option('--user <name>', 'the Teleport user to issue credentials for (e.g. access-plugin)')
    .option('-o, --out <prefix>', 'output prefix (tls) or identity file path (file)');
  addFormatOption(cmd);
  return cmd
    .addOption(
      new Option('--out-format <kind>', 'what to write: tls (three files) or file (identity file)').choices(
        OUT_FORMATS,
      ),
    )
    .option('--ttl <duration>', 'certificate lifetime; the server caps it at max_session_ttl', DEFAULT_TTL)
    .option('--overwrite', 'replace existing files')
    .option('--print-rbac', 'print the role and user YAML a plugin needs (for tctl create / --seed)')
    .option('--verify', 'connect with the new credentials and report what they may do on access requests')
    .addHelpText(
      'after',
      // Lines of at most 40 characters, so the examples fit any terminal help is read on.
      '\nExamples:\n' +
        '  access sign-helper --print-rbac \\\n' +
        '    > plugin-rbac.yaml\n' +
        '  tctl create -f plugin-rbac.yaml\n' +
        '  access sign-helper \\\n' +
        '    --user access-plugin --out auth \\\n' +
        '    --ttl 8h --verify\n' +
        '  access sign-helper \\\n' +
        '    --user access-plugin \\\n' +
        '    --out identity --format file -f json\n',
    );
}

/** The file formats addFormatOption moved aside from --format. */
interface FormatFiles {
  formatFiles?: OutFormat[];
}

/** Teleport user names are free-form, but not whitespace or control characters (they end up in files and configs). */
function checkUserName(user: string): string {
  if (user === '' || /[\s\p{Cc}]/u.test(user)) {
    throw new UsageError(`invalid --user ${JSON.stringify(user)}: expected a user name without spaces`);
  }
  return user;
}

export function parse(_args: [], flags: FlagsOf<typeof define> & FormatFiles): SignHelperOptions {
  const fromFormat = flags.formatFiles ?? [];
  const explicit = flags.outFormat;
  const kinds = new Set([...fromFormat, ...(explicit === undefined ? [] : [explicit])]);
  if (kinds.size > 1) {
    throw new UsageError(
      `conflicting output kinds ${[...kinds].join(' and ')}: give one of --format tls|file`,
    );
  }
  const outFormat = ([...kinds][0] ?? 'tls') as OutFormat;

  const ttlText = flags.ttl;
  const ttlMs = parseDuration(ttlText, 'ttl');
  if (ttlMs <= 0) throw new UsageError(`invalid --ttl ${JSON.stringify(ttlText)}: must be greater than zero`);

  const userText = flags.user;
  const user = userText === undefined ? undefined : checkUserName(userText);
  const { out } = flags;
  if (out !== undefined && (out === '' || /[\\/]$/.test(out))) {
    throw new UsageError(`invalid --out ${JSON.stringify(out)}: expected a file prefix such as ./auth`);
  }
  const opts: SignHelperOptions = {
    user,
    out,
    outFormat,
    ttlMs,
    ttlText,
    overwrite: flags.overwrite === true,
    printRbac: flags.printRbac === true,
    verify: flags.verify === true,
  };
  const signing = out !== undefined || !opts.printRbac;
  if (signing) {
    if (user === undefined) throw new UsageError('--user is required', 'e.g. --user access-plugin');
    if (out === undefined)
      throw new UsageError('--out is required', 'e.g. --out auth (writes auth.crt, auth.key, auth.cas)');
  } else if (opts.verify) {
    throw new UsageError('--verify needs credentials to check: give --user and --out');
  }
  return opts;
}

export async function run(ctx: Context, opts: SignHelperOptions): Promise<number> {
  if (opts.printRbac && opts.out !== undefined && ctx.format !== 'text') {
    throw new UsageError(
      `--print-rbac and signing print two documents: run them separately with --format ${ctx.format}`,
    );
  }
  if (opts.printRbac) await printRbac(ctx, opts.user ?? DEFAULT_PLUGIN_USER);
  if (opts.out === undefined || opts.user === undefined) return 0;
  const { sign } = await import('./sign-helper-issue.js');
  return sign(ctx, { ...opts, out: opts.out, user: opts.user });
}

async function printRbac(ctx: Context, user: string): Promise<void> {
  if (ctx.format === 'json') await printStructured(ctx.io, 'json', pluginRbacResources(user));
  else ctx.io.stdout.write(pluginRbacYaml(user));
}
