import { isAbsolute, resolve } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { AccessError } from '../../model/errors.js';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import type { GlobalOptions } from '../options.js';

export interface McpCommandOptions {
  allowReview: boolean;
  printConfig: boolean;
}

export function define() {
  return new Command('mcp')
    .description(
      'Serve the access-request tools to AI agents over MCP on stdio; reviews stay with people.\n' +
        'Tools: whoami, search_requestable, list_access_requests, get_access_request, create_access_request, wait_for_access_request (assumes on approval), drop_access.\n' +
        'Each call is logged to stderr.\n' +
        '`--print-config` prints the JSON an MCP client takes to start it.',
    )
    .option(
      '--allow-review',
      "also offer review_access_request (the server still refuses reviews of the user's own requests)",
    )
    .option('--print-config', 'print the MCP client configuration (command, args, env) and exit');
}

export function parse(_args: [], flags: FlagsOf<typeof define>): McpCommandOptions {
  return { allowReview: flags.allowReview === true, printConfig: flags.printConfig === true };
}

/** The settings in effect that say where the server and credentials are, as environment variables. */
function configEnv(g: GlobalOptions, env: Context['env']): Record<string, string> {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));
  const out: Record<string, string> = {};
  if (g.authServer) out.ACCESS_AUTH_SERVER = g.authServer;
  if (g.proxy) out.ACCESS_PROXY = g.proxy;
  if (g.identity) out.ACCESS_IDENTITY = abs(g.identity);
  if (g.cert) out.ACCESS_CERT = abs(g.cert);
  if (g.key) out.ACCESS_KEY = abs(g.key);
  if (g.ca) out.ACCESS_CA = abs(g.ca);
  if (!g.identity && !g.cert && env.TELEPORT_HOME) out.TELEPORT_HOME = abs(g.teleportHome);
  if (g.cluster) out.TELEPORT_CLUSTER = g.cluster;
  return out;
}

export async function run(ctx: Context, opts: McpCommandOptions): Promise<number> {
  const args = ['mcp', ...(opts.allowReview ? ['--allow-review'] : [])];
  if (opts.printConfig) {
    const self = ctx.io.self;
    if (!self) throw new AccessError('failure', 'cannot tell how this installation is started');
    const config = {
      mcpServers: {
        access: {
          command: self.execPath,
          args: [resolve(self.script), ...args],
          env: configEnv(ctx.globals, ctx.env),
        },
      },
    };
    ctx.io.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    return 0;
  }
  const [{ serveMcp }, { packageVersion }] = await Promise.all([
    import('../../mcp/serve.js'),
    import('../program.js'),
  ]);
  await serveMcp(ctx, { allowReview: opts.allowReview, version: packageVersion() });
  return 0;
}
