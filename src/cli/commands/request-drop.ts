import { Command } from 'commander';
import { UsageError } from '../../model/errors.js';
import type { DropResult } from '../../model/schema.js';
import { formatKeyValues } from '../../render/table.js';
import type { Context } from '../context.js';
import { emit, note, requestIds } from './shared.js';

export interface DropOptions {
  /** Requests to drop; empty means all active requests. */
  ids: string[];
}

export function define(): Command {
  return new Command('drop')
    .description(
      'Re-issue your certificate without the given assumed requests (all when none are given),\n' +
        'returning to your base roles. Nothing is deleted on the server.',
    )
    .argument('[ids...]', 'request IDs to drop (default: all)');
}

export function parse(args: unknown[]): DropOptions {
  const ids = requestIds(args, ['*']);
  return { ids: ids.includes('*') ? [] : ids };
}

export async function run(ctx: Context, opts: DropOptions): Promise<number> {
  const creds = await ctx.credentials();
  if (creds.source.kind === 'tls-trio') {
    throw new UsageError(
      'credentials from --cert/--key/--ca are read-only, so there is no certificate to re-issue',
      'use an identity file (-i) or the tsh profile',
    );
  }
  const conn = await ctx.connect();
  const { reissueCertificates, writeBackCredentials } = await import('../../client/reissue.js');
  const active = conn.identity.activeRequests;
  const all = opts.ids.length === 0;
  note(
    ctx,
    all ? 'Dropping all active access requests...' : `Dropping access request(s): ${opts.ids.join(', ')}...`,
  );
  const keep = all ? [] : active.filter((id) => !opts.ids.includes(id));
  const reissued = await reissueCertificates(conn, {
    accessRequests: keep,
    dropAccessRequests: all ? ['*'] : opts.ids,
  });
  await writeBackCredentials(conn.credentials, reissued.certPem, reissued.sshCert);
  const result: DropResult = {
    dropped: active.filter((id) => !reissued.identity.activeRequests.includes(id)),
    active_requests: reissued.identity.activeRequests,
    roles: reissued.identity.roles,
  };
  await emit(ctx, result, () => {
    ctx.io.stdout.write(
      `${formatKeyValues([
        ['Dropped', result.dropped.join(', ') || '[none]'],
        ['Active Requests', result.active_requests.join(', ') || '[none]'],
        ['Roles', result.roles.join(', ')],
      ])}\n`,
    );
  });
  return 0;
}
