import { Command } from '@commander-js/extra-typings';
import type { RmResult } from '../../model/schema.js';
import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { assertMayLock, lockCreatedLine, lockRequests } from './lock-shared.js';
import { callOpts, emit, fetchRequest, note, requestIds, resolveRequestIds } from './shared.js';

export interface RmOptions {
  ids: string[];
  force: boolean;
  /** Lock each request before deleting it, which takes back access already granted. */
  lock: boolean;
}

export function define() {
  return new Command('rm')
    .description(
      'Delete access requests (needs the access_request delete rule). Deleting an approved request ' +
        'does not take back access already granted; that needs --force.',
    )
    .argument('<ids...>', 'request IDs (commas also separate IDs)')
    .option('--force', 'delete even approved requests')
    .option(
      '--lock',
      'lock each request first (see `access request lock`), so certificates that carry it stop working',
    );
}

export function parse([ids]: ArgsOf<typeof define>, flags: FlagsOf<typeof define>): RmOptions {
  return { ids: requestIds(ids), force: flags.force === true, lock: flags.lock === true };
}

function approvedWarning(id: string): string {
  return `This access request has already been approved, deleting the request now will NOT remove
the user's access to these roles. If you would like to lock the user's access to the
requested roles instead, you can run:

> access request lock ${id}

To disregard this warning and delete the request anyway, re-run this command with --force:

> access request rm --force ${id}

To lock the request and delete it, re-run this command with --lock:

> access request rm --lock ${id}`;
}

export async function run(ctx: Context, opts: RmOptions): Promise<number> {
  const conn = await ctx.connect();
  const { assertMayDeleteRequests, deleteRequest } = await import('../../client/requests.js');
  // A caller without the `delete` rule hears "permission denied" whatever the IDs are, as
  // from Teleport, before the requests are read.
  await assertMayDeleteRequests(conn, callOpts(ctx));
  if (opts.lock) await assertMayLock(ctx, conn);
  // Every request is read first, so a missing or approved one stops the command before
  // anything is deleted.
  const reqs = [];
  for (const id of await resolveRequestIds(ctx, conn, opts.ids)) reqs.push(await fetchRequest(ctx, conn, id));
  const approved = reqs.filter((r) => r.state === 'APPROVED');
  // With --lock, deleting an approved request no longer leaves its access in place.
  if (approved.length > 0 && !opts.force && !opts.lock) {
    for (const r of approved) note(ctx, approvedWarning(r.id));
    note(ctx, 'error: nothing was deleted');
    return 1;
  }
  const locks = opts.lock
    ? await lockRequests(
        ctx,
        conn,
        reqs.map((r) => r.id),
        {},
      )
    : [];
  for (const l of locks) note(ctx, lockCreatedLine(l));
  const deleted: string[] = [];
  for (const r of reqs) {
    await deleteRequest(conn, r.id, callOpts(ctx));
    deleted.push(r.id);
  }
  const result: RmResult = { deleted, locked: locks.map((l) => l.name) };
  await emit(ctx, result, () => {
    ctx.io.stdout.write(
      deleted.length === 1
        ? 'Access request deleted successfully.\n'
        : `${deleted.length} access requests deleted successfully.\n`,
    );
  });
  return 0;
}
