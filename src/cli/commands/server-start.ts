import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { note } from './shared.js';

export interface ServerStartOptions {
  dataDir?: string;
  listen: string;
  seedFile?: string;
  /** Unset: `local` for a new data directory, the stored name for an existing one. */
  clusterName?: string;
}

export function define() {
  return new Command('start')
    .description(
      'Start the embedded Auth API (a local stand-in for a Teleport cluster) and run until ' +
        'Ctrl-C or SIGTERM. Prints `listening on HOST:PORT` and the export line to use it.',
    )
    .option('--data-dir <dir>', 'state directory (env ACCESS_DATA_DIR; default ~/.access/server)')
    .option('--listen <host:port>', 'address to listen on; port 0 picks a free one', '127.0.0.1:3025')
    .option(
      '--seed <file>',
      'YAML roles, users and resources for a new data directory (default: demo seed); an existing ' +
        'directory keeps its own, and --seed is then ignored with a warning (as Teleport does with --bootstrap)',
    )
    .option(
      '--cluster-name <name>',
      'cluster name of a new data directory (default local; an existing one keeps its own)',
    );
}

export function parse(_args: [], flags: FlagsOf<typeof define>): ServerStartOptions {
  return {
    dataDir: flags.dataDir,
    listen: flags.listen,
    seedFile: flags.seed,
    clusterName: flags.clusterName,
  };
}

/** The user whose identity the export line names: alice (the demo requester) when present. */
async function identityUsers(dir: string): Promise<string[]> {
  try {
    const names = (await readdir(join(dir, 'identities'))).filter((n) => n.endsWith('.pem'));
    const users = names.map((n) => n.slice(0, -4)).sort();
    return users.includes('alice') ? ['alice', ...users.filter((u) => u !== 'alice')] : users;
  } catch {
    return [];
  }
}

export async function run(ctx: Context, opts: ServerStartOptions): Promise<number> {
  const home = ctx.env.HOME || ctx.env.USERPROFILE || '.';
  const dataDir = opts.dataDir ?? ctx.env.ACCESS_DATA_DIR ?? join(home, '.access', 'server');
  const { startServer } = await import('../../server/index.js');
  const server = await startServer({
    dataDir,
    listen: opts.listen,
    seedFile: opts.seedFile,
    clusterName: opts.clusterName,
    log: ctx.debug ? (line: string) => note(ctx, line) : undefined,
    warn: (line: string) => note(ctx, line),
  });
  const out = ctx.io.stdout;
  out.write(`listening on ${server.addr}\n`);
  const users = await identityUsers(server.dataDir);
  if (users.length > 0) {
    out.write(`export ACCESS_AUTH_SERVER=${server.addr} ACCESS_IDENTITY=${server.identityPath(users[0])}\n`);
    if (users.length > 1) {
      out.write(
        `# other identities: ${users
          .slice(1)
          .map((u) => server.identityPath(u))
          .join(' ')}\n`,
      );
    }
  } else {
    out.write(`export ACCESS_AUTH_SERVER=${server.addr}\n`);
  }
  note(ctx, `cluster ${server.clusterName}, data in ${server.dataDir}; Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    const signal = ctx.io.signal;
    if (!signal || signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  note(ctx, 'stopping...');
  await server.stop();
  return 0;
}
