import { Command } from '@commander-js/extra-typings';
import { statusText } from '../../render/status.js';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, emit } from './shared.js';

export function define() {
  return new Command('status')
    .alias('whoami')
    .description(
      'Show who your credentials say you are, as `tsh status` does.\n' +
        'It lists the user, cluster and roles, the access requests the certificate carries with their state and expiry, when it expires and where the credentials came from.\n' +
        '`--format json` prints the `status` document (`access help formats`).',
    );
}

export function parse(_args: [], _flags: FlagsOf<typeof define>): Record<string, never> {
  return {};
}

export async function run(ctx: Context): Promise<number> {
  const conn = await ctx.connect();
  const { whoami } = await import('../../client/status.js');
  const status = await whoami(conn, callOpts(ctx));
  await emit(ctx, status, () => {
    ctx.io.stdout.write(statusText(status, ctx.now(), ctx.io.stdoutIsTTY ? ctx.io.columns : undefined));
  });
  return 0;
}
