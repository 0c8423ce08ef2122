import { homedir } from 'node:os';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Connection } from '../client/index.js';
import type { Credentials } from '../identity/types.js';
import { UsageError } from '../model/errors.js';
import type { Format } from '../render/format.js';
import type { IO } from '../render/io.js';
import { type GlobalOptions, resolveGlobalOptions } from './options.js';

/**
 * What a command gets to do its work: injected IO, the merged global options and a lazy
 * connection. Built once per `main` call; `configure` runs after commander parsed the flags.
 */
export interface Context {
  readonly io: IO;
  readonly env: IO['env'];
  readonly globals: GlobalOptions;
  readonly format: Format;
  readonly debug: boolean;
  now(): Date;
  /** Loads credentials (identity file, TLS trio or tsh profile) without connecting. */
  credentials(): Promise<Credentials>;
  /** Connects on first use and returns the same connection afterwards; main closes it. */
  /** The connection for access-request calls, to the root cluster. */
  connect(): Promise<Connection>;
  /**
   * Closes the connection and connects again with the credentials re-read from where they
   * came from: after a re-issue, calls then go out with the new certificate.
   */
  reconnect(): Promise<Connection>;
  /** The cluster selected for search and resource IDs (a leaf or the root). */
  selectedCluster(): Promise<string>;
  /** A connection to the selected cluster (the root connection when they are the same). */
  connectSelected(): Promise<Connection>;
  /**
   * A context with the same options over `io` and nothing loaded yet: credentials are read
   * again and connections opened afresh (one per MCP tool call, so a re-issue is seen by the
   * next call while a call in flight keeps its own). Its owner closes it.
   */
  fork(io: IO): Context & { close(): Promise<void> };
}

export const ADDRESS_HINT =
  'pass --auth-server HOST:PORT (or set ACCESS_AUTH_SERVER); for a local server run `access server start` and paste the export line it prints';

/** The Context implementation main uses; tests build it the same way around a fake IO. */
export class CliContext implements Context {
  private baseIO: IO;
  io: IO;
  globals: GlobalOptions;
  private conn?: Promise<Connection>;
  private leafConn?: Promise<Connection>;
  private creds?: Promise<Credentials>;

  constructor(io: IO) {
    this.baseIO = io;
    this.io = io;
    // Until configure() runs, an invalid variable is not an error yet: `access --help` must
    // work whatever ACCESS_FORMAT says. configure() reports it inside main.
    try {
      this.globals = resolveGlobalOptions(io.env, homeDir(io.env));
    } catch {
      this.globals = resolveGlobalOptions({ TELEPORT_HOME: io.env.TELEPORT_HOME }, homeDir(io.env));
    }
  }

  get env(): IO['env'] {
    return this.io.env;
  }

  get format(): Format {
    return this.globals.format;
  }

  get debug(): boolean {
    return this.globals.debug;
  }

  now(): Date {
    return this.io.now();
  }

  /** Merges the parsed flags of `leaf` (and its ancestors) with the environment. */
  configure(leaf: CommandUnknownOpts): void {
    this.globals = resolveGlobalOptions(this.baseIO.env, homeDir(this.baseIO.env), leaf);
    const color = this.baseIO.color && this.globals.color;
    this.io = color === this.baseIO.color ? this.baseIO : { ...this.baseIO, color };
  }

  fork(io: IO): CliContext {
    const child = new CliContext(io);
    child.globals = this.globals;
    return child;
  }

  credentials(): Promise<Credentials> {
    this.creds ??= loadCredentials(this.globals);
    return this.creds;
  }

  /** The connection for access-request calls: to the root cluster, as tsh's WithRootClusterClient. */
  connect(): Promise<Connection> {
    this.conn ??= this.openConnection();
    return this.conn;
  }

  async reconnect(): Promise<Connection> {
    await this.close();
    this.creds = undefined;
    return this.connect();
  }

  /**
   * The cluster selected for search and resource IDs: --cluster/TELEPORT_CLUSTER, else the tsh
   * profile's (a leaf after `tsh login leaf`), else the root.
   */
  async selectedCluster(): Promise<string> {
    const root = await this.connect();
    if (this.globals.cluster) return this.globals.cluster;
    const source = root.credentials.source;
    return source.kind === 'tsh-profile' ? source.cluster : (root.clusterName ?? '');
  }

  /**
   * A connection to the selected cluster: through a Proxy, a leaf is reached by naming it in
   * the ALPN route; a direct Auth Service address serves only its own cluster.
   */
  async connectSelected(): Promise<Connection> {
    const root = await this.connect();
    const selected = await this.selectedCluster();
    if (selected === root.clusterName || this.globals.authServer) return root;
    this.leafConn ??= this.openConnection(selected);
    return this.leafConn;
  }

  private async openConnection(clusterName?: string): Promise<Connection> {
    const credentials = await this.credentials();
    const g = this.globals;
    const profileProxy = credentials.source.kind === 'tsh-profile' ? credentials.source.proxyAddr : undefined;
    if (!g.authServer && !g.proxy && !profileProxy) {
      throw new UsageError('no Auth Service address given', ADDRESS_HINT);
    }
    const { connect } = await import('../client/connect.js');
    const io = this.io;
    const proxyMode = !g.authServer;
    return connect({
      connUpgrade: proxyMode ? await connUpgradeSettings(io.env) : undefined,
      credentials,
      authServer: g.authServer,
      proxy: g.proxy ?? (g.authServer ? undefined : profileProxy),
      tlsServerName: g.tlsServerName,
      ...(clusterName === undefined ? {} : { clusterName }),
      rpcTimeoutMs: g.rpcTimeoutMs,
      now: () => io.now(),
      debug: g.debug ? (line: string) => io.stderr.write(`debug: ${line}\n`) : undefined,
    });
  }

  /** Closes the connection if one was opened. */
  async close(): Promise<void> {
    const conns = [this.conn, this.leafConn];
    this.conn = undefined;
    this.leafConn = undefined;
    for (const conn of conns) {
      if (!conn) continue;
      try {
        (await conn).close();
      } catch {
        // The connection never opened; its error was already reported.
      }
    }
  }
}

/**
 * What the environment says about reaching a Proxy behind an L7 load balancer. SSL_CERT_FILE
 * replaces the roots the balancer's certificate is checked against, as it does for tsh
 * (Go's crypto/x509 reads it on Unix).
 */
async function connUpgradeSettings(env: IO['env']) {
  const file = env.SSL_CERT_FILE;
  let rootCaPems: string[] | undefined;
  if (file) {
    const { certificateBlocks, readCredentialFile } = await import('../identity/pem.js');
    rootCaPems = certificateBlocks(await readCredentialFile('SSL_CERT_FILE', file));
    if (rootCaPems.length === 0) {
      throw new UsageError(`SSL_CERT_FILE "${file}" holds no PEM certificate`, 'point it at a CA bundle');
    }
  }
  return {
    env: env.TELEPORT_TLS_ROUTING_CONN_UPGRADE,
    mode: env.TELEPORT_TLS_ROUTING_CONN_UPGRADE_MODE,
    rootCaPems,
  };
}

function homeDir(env: IO['env']): string {
  return env.HOME || env.USERPROFILE || homedir();
}

/** Loads credentials, importing only the loader the source needs (the tsh profile one pulls in yaml). */
async function loadCredentials(g: GlobalOptions): Promise<Credentials> {
  if (g.identity) return (await import('../identity/identity-file.js')).readIdentityFile(g.identity);
  const trio = [g.cert, g.key, g.ca];
  if (trio.some((x) => x !== undefined)) {
    const missing = (['cert', 'key', 'ca'] as const).filter((_, i) => trio[i] === undefined);
    if (missing.length > 0) {
      throw new UsageError(
        `--cert, --key and --ca go together: missing ${missing.map((m) => `--${m}`).join(', ')}`,
      );
    }
    return (await import('../identity/trio.js')).readTlsTrio(g.cert!, g.key!, g.ca!);
  }
  return (await import('../identity/profile.js')).readTshProfile(g.teleportHome, {
    proxy: g.proxy,
    cluster: g.cluster,
  });
}
