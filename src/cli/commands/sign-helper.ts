import { lstat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command, Option, type OptionValues } from '@commander-js/extra-typings';
import type { Connection } from '../../client/index.js';
import { formatDuration, parseDuration } from '../../model/duration.js';
import { AccessError, UsageError } from '../../model/errors.js';
import type { SignHelperResult } from '../../model/schema.js';
import { toIsoOrNull } from '../../model/time.js';
import { FORMATS, type Format, printStructured } from '../../render/format.js';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, note } from './shared.js';
import { DEFAULT_PLUGIN_USER, pluginRbacResources, pluginRbacYaml } from './sign-helper-rbac.js';

/** What is written: the `tctl auth sign --format=tls` trio, or one identity file (`--format=file`). */
export const OUT_FORMATS = ['tls', 'file'] as const;
export type OutFormat = (typeof OUT_FORMATS)[number];

/** tctl's default certificate lifetime (apidefaults.CertDuration). */
export const DEFAULT_TTL = '12h';

/** An issued certificate this much shorter than asked means the server capped it (tctl's margin). */
const TTL_SLACK_MS = 60_000;

/** Wire values of types.SignatureAlgorithmSuite (teleport-wire-facts §2.8). */
const SUITE = { BALANCED_V1: 2, FIPS_V1: 3, HSM_V1: 4 } as const;

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

/** The files one run writes. */
export type Targets =
  | { kind: 'tls'; crt: string; key: string; cas: string }
  | { kind: 'file'; identity: string };

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
      'Issue credentials for an Access Request plugin (like `tctl auth sign`): a key made here, a\n' +
        'certificate for --user from the Auth Service (you need impersonation rights), written as\n' +
        'PREFIX.crt, PREFIX.key, PREFIX.cas (--format tls, the default) or as one identity file at\n' +
        'PREFIX (--format file), followed by the plugin configuration that uses them.\n' +
        '--format accepts tctl values (tls, file) and output formats (text, json, yaml); give it twice\n' +
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
      '\nExamples:\n' +
        '  access sign-helper --print-rbac > plugin-rbac.yaml        # then: tctl create -f plugin-rbac.yaml\n' +
        '  access sign-helper --user access-plugin --out auth --ttl 8h --verify\n' +
        '  access sign-helper --user access-plugin --out identity --format file -f json\n',
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

/** The files written for `out`, as absolute paths (they go into a plugin's configuration). */
export function targetsFor(out: string, kind: OutFormat): Targets {
  const base = resolve(out);
  if (kind === 'file') return { kind, identity: base };
  return { kind, crt: `${base}.crt`, key: `${base}.key`, cas: `${base}.cas` };
}

function targetList(t: Targets): string[] {
  return t.kind === 'file' ? [t.identity] : [t.crt, t.key, t.cas];
}

/**
 * ECDSA P-256 for the suites whose user TLS keys are ECDSA (balanced-v1, fips-v1 and hsm-v1
 * all issue ECDSA P-256 user keys); RSA 2048 for legacy, for servers too old to report a
 * suite (UNSPECIFIED), and for suites this build does not know.
 */
export function keyAlgorithmForSuite(suite: number): 'ecdsa-p256' | 'rsa-2048' {
  return suite === SUITE.BALANCED_V1 || suite === SUITE.FIPS_V1 || suite === SUITE.HSM_V1
    ? 'ecdsa-p256'
    : 'rsa-2048';
}

/**
 * A lifetime for people: X.509 times have whole seconds and the server's clock is not
 * ours, so an issued 12h reads 11h59m59s when measured exactly; past two minutes it is
 * rounded to the minute.
 */
export function lifetime(ms: number): string {
  const unit = ms >= 120_000 ? 60_000 : 1000;
  return formatDuration(Math.max(0, Math.round(ms / unit) * unit));
}

/**
 * Refuses a certificate the server shortened by more than a minute (tctl does the same):
 * a plugin would otherwise stop working long before its operator expects.
 */
export function checkIssuedTtl(opts: {
  user: string;
  ttlText: string;
  requested: Date;
  issued: Date;
  now: Date;
}): void {
  if (opts.issued.getTime() >= opts.requested.getTime() - TTL_SLACK_MS) return;
  const valid = lifetime(opts.issued.getTime() - opts.now.getTime());
  throw new UsageError(
    `the requested TTL of ${opts.ttlText} exceeds the maximum allowed for ${JSON.stringify(opts.user)} (issued certificate is valid for ${valid}); nothing was written`,
    `lower --ttl to at most ${valid}, or raise max_session_ttl in the roles of ${JSON.stringify(opts.user)}`,
  );
}

/** The `[teleport]` section of a teleport-plugins configuration that uses the written files. */
export function pluginConfig(address: string, t: Targets): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = ['[teleport]', `auth_server = ${q(address)}`];
  if (t.kind === 'file') lines.push(`identity = ${q(t.identity)}`);
  else lines.push(`client_key = ${q(t.key)}`, `client_crt = ${q(t.crt)}`, `root_cas = ${q(t.cas)}`);
  return `${lines.join('\n')}\n`;
}

/** `@cert-authority` lines from Certs.SSHCACerts (authorized_keys lines of the host CA). */
export function sshCaLines(sshCaCerts: string[], cluster: string): string[] {
  return sshCaCerts
    .flatMap((text) => text.split(/\r?\n/))
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) =>
      line.startsWith('@cert-authority') ? line : `@cert-authority ${cluster},*.${cluster} ${line} type=host`,
    );
}

/** Refuses (usage error, before any server call) to write over files or into a missing directory. */
async function preflight(t: Targets, overwrite: boolean): Promise<void> {
  for (const path of targetList(t)) {
    const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new UsageError(`cannot check "${path}": ${err.code ?? err.message}`);
    });
    if (st?.isDirectory())
      throw new UsageError(`"${path}" is a directory: give --out a file prefix inside it`);
    if (st && !overwrite) {
      throw new UsageError(`refusing to overwrite "${path}"`, 'pass --overwrite to replace it');
    }
  }
  const dir = dirname(targetList(t)[0]);
  const dst = await lstat(dir).catch(() => undefined);
  if (!dst?.isDirectory()) throw new UsageError(`cannot write to "${dir}": no such directory`);
}

/** The TLS CAs to trust the server with, as tctl picks them: the cluster's (host) CA. */
async function trustedCas(ctx: Context, conn: Connection, issuedCas: Buffer[]): Promise<string[]> {
  const { certificateBlocks } = await import('../../identity/pem.js');
  const { RpcError } = await import('../../client/errors.js');
  let cas: string[] = [];
  try {
    const reply = await conn.auth.getClusterCaCert({}, callOpts(ctx));
    cas = certificateBlocks(reply.tlsCa.toString('utf8'));
  } catch (err) {
    // An older or restricted server: fall back to what this connection already trusts.
    if (!(err instanceof RpcError) || err.kind === 'interrupted') throw err;
  }
  if (cas.length === 0) {
    cas = [...issuedCas.flatMap((b) => certificateBlocks(b.toString('utf8'))), ...conn.credentials.caPems];
  }
  const seen = new Set<string>();
  return cas.filter((pem) => {
    const key = pem.replace(/\s+/g, '');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function run(ctx: Context, opts: SignHelperOptions): Promise<number> {
  if (opts.printRbac && opts.out !== undefined && ctx.format !== 'text') {
    throw new UsageError(
      `--print-rbac and signing print two documents: run them separately with --format ${ctx.format}`,
    );
  }
  if (opts.printRbac) await printRbac(ctx, opts.user ?? DEFAULT_PLUGIN_USER);
  if (opts.out === undefined || opts.user === undefined) return 0;
  return sign(ctx, { ...opts, out: opts.out, user: opts.user });
}

async function printRbac(ctx: Context, user: string): Promise<void> {
  if (ctx.format === 'json') await printStructured(ctx.io, 'json', pluginRbacResources(user));
  else ctx.io.stdout.write(pluginRbacYaml(user));
}

async function sign(ctx: Context, opts: SignHelperOptions & { out: string; user: string }): Promise<number> {
  const targets = targetsFor(opts.out, opts.outFormat);
  await preflight(targets, opts.overwrite);

  const identity = await import('../../identity/index.js');
  const { keyPairProblem } = await import('../../identity/pem.js');
  const conn = await ctx.connect();
  const ping = await conn.auth.ping({}, callOpts(ctx));
  const key = await identity.generateKey(keyAlgorithmForSuite(ping.signatureAlgorithmSuite));
  const wantSsh = targets.kind === 'file';
  const now = ctx.now();
  const requested = new Date(now.getTime() + opts.ttlMs);
  const certs = await conn.auth.generateUserCerts(
    {
      username: opts.user,
      expires: requested,
      tlsPublicKey: Buffer.from(key.publicKeyPem),
      ...(wantSsh ? { sshPublicKey: Buffer.from(identity.sshPublicKeyFromPem(key.publicKeyPem)) } : {}),
    },
    callOpts(ctx),
  );

  const certPem = certs.tls.toString('utf8');
  if (!certPem.includes('CERTIFICATE') || keyPairProblem(key.privateKeyPem, certPem) !== undefined) {
    throw new AccessError(
      'failure',
      'the server returned no TLS certificate for the generated key; nothing was written',
    );
  }
  const issuedFor = identity.parseIdentity(certPem).username;
  if (issuedFor !== opts.user) {
    throw new AccessError(
      'failure',
      `the server issued a certificate for ${JSON.stringify(issuedFor)} instead of ${JSON.stringify(opts.user)}; nothing was written`,
    );
  }
  const expires = identity.certificateExpiry(certPem);
  checkIssuedTtl({ user: opts.user, ttlText: opts.ttlText, requested, issued: expires, now });

  const caPems = await trustedCas(ctx, conn, certs.tlsCaCerts);
  const sshCert = certs.ssh.toString('utf8').trim();
  if (targets.kind === 'file') {
    if (sshCert === '')
      note(
        ctx,
        'warning: the server issued no SSH certificate; the identity file holds TLS credentials only',
      );
    const text = identity.formatIdentityFile({
      keyPem: key.privateKeyPem,
      ...(sshCert === '' ? {} : { sshCert }),
      certPem,
      sshCaLines: sshCaLines(
        certs.sshCaCerts.map((b) => b.toString('utf8')),
        ping.clusterName,
      ),
      caPems,
    });
    await identity.writeFilesExclusive([{ path: targets.identity, data: text, mode: 0o600 }], {
      overwrite: opts.overwrite,
    });
  } else {
    await identity.writeFilesExclusive(
      [
        { path: targets.crt, data: certPem, mode: 0o600 },
        { path: targets.key, data: key.privateKeyPem, mode: 0o600 },
        { path: targets.cas, data: caPems.join(''), mode: 0o600 },
      ],
      { overwrite: opts.overwrite },
    );
  }

  const files = targetList(targets);
  const validFor = lifetime(expires.getTime() - now.getTime());
  const expiresText = toIsoOrNull(expires) ?? '';
  note(
    ctx,
    `The credentials for ${JSON.stringify(opts.user)} have been written to ${files.join(', ')} (valid until ${expiresText}, ${validFor}).`,
  );
  if (ctx.format === 'text') {
    note(ctx, "Plugin configuration (the plugin's TOML file):");
    ctx.io.stdout.write(pluginConfig(conn.address, targets));
  } else {
    const result: SignHelperResult = { files, user: opts.user, expires: expiresText };
    await printStructured(ctx.io, ctx.format as Exclude<Format, 'text'>, result);
  }

  if (opts.verify) await verify(ctx, conn, targets);
  return 0;
}

/** What --verify found out; exported for tests of the rendering. */
export interface VerifyReport {
  address: string;
  cluster: string;
  serverVersion: string;
  user: string;
  roles: string[];
  /** Requests visible to ListAccessRequests (first page). */
  visible: number;
  /** More pages followed. */
  more: boolean;
  /** True: allowed; false: PermissionDenied; `mfa`: refused for admin MFA; else the unexpected answer. */
  update: boolean | 'mfa' | string;
  expires: Date;
}

export function verifyLines(r: VerifyReport, now: Date): string[] {
  const left = lifetime(r.expires.getTime() - now.getTime());
  const update =
    r.update === true
      ? 'yes (SetAccessRequestState passed the permission check)'
      : r.update === false
        ? 'no (PermissionDenied): enough for a notify-only plugin, not for one that approves or denies'
        : r.update === 'mfa'
          ? 'refused: the cluster wants MFA for admin actions from this identity (it was signed by a person); ' +
            'sign it with `tctl auth sign` on the Auth host or use a Machine ID bot identity'
          : `unknown (${r.update})`;
  return [
    `verify: connected to ${r.address} (cluster ${JSON.stringify(r.cluster)}, Teleport ${r.serverVersion || 'unknown'}) as ${JSON.stringify(r.user)} with roles ${r.roles.join(', ') || '(none)'}`,
    `verify: access_request list/read: ListAccessRequests succeeded, ${r.visible}${r.more ? '+' : ''} request(s) visible (without list/read rules only the user's own and reviewable requests are shown)`,
    `verify: access_request update: ${update}`,
    `verify: certificate expires ${toIsoOrNull(r.expires)} (in ${left})`,
  ];
}

/**
 * Connects with the files just written (read back from disk, so what is checked is what
 * the plugin will load) to the same address, and probes access_request permissions.
 * `update` is probed with SetAccessRequestState on a random request ID: the server checks
 * the rule before looking the request up, so PermissionDenied means no `update` and
 * NotFound means the rule allows it. The report goes to stderr: stdout holds the
 * configuration or the JSON result.
 */
async function verify(ctx: Context, signer: Connection, t: Targets): Promise<void> {
  const identity = await import('../../identity/index.js');
  const { connect } = await import('../../client/connect.js');
  const credentials =
    t.kind === 'file'
      ? await identity.readIdentityFile(t.identity)
      : await identity.readTlsTrio(t.crt, t.key, t.cas);
  const g = ctx.globals;
  const viaProxy = g.authServer === undefined;
  let conn: Connection | undefined;
  try {
    conn = await connect({
      credentials,
      ...(viaProxy ? { proxy: signer.address } : { authServer: signer.address }),
      ...(g.tlsServerName === undefined ? {} : { tlsServerName: g.tlsServerName }),
      ...(signer.clusterName === undefined ? {} : { clusterName: signer.clusterName }),
      rpcTimeoutMs: g.rpcTimeoutMs,
    });
    const ping = await conn.auth.ping({}, callOpts(ctx));
    const page = await conn.auth.listAccessRequests({ limit: 100 }, callOpts(ctx));
    const { probeStateChangeRule } = await import('../../client/probes.js');
    const update = await probeStateChangeRule(conn, callOpts(ctx));
    const report: VerifyReport = {
      address: conn.address,
      cluster: ping.clusterName,
      serverVersion: ping.serverVersion,
      user: conn.identity.username,
      roles: conn.identity.roles,
      visible: page.accessRequests.length,
      more: page.nextKey !== '',
      update,
      expires: conn.identity.expires,
    };
    for (const line of verifyLines(report, ctx.now())) note(ctx, line);
  } catch (err) {
    if (err instanceof AccessError && err.kind !== 'interrupted') {
      throw new AccessError(
        err.kind,
        `verification with the new credentials failed: ${err.message}`,
        'the files were written; check them with `access request ls` and their --cert/--key/--ca or -i',
        { cause: err },
      );
    }
    throw err;
  } finally {
    conn?.close();
  }
}
