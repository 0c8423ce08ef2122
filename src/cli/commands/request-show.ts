import { Command } from '@commander-js/extra-typings';
import type { Connection } from '../../client/index.js';
import type { AccessRequest } from '../../model/request.js';
import { parseResourceId } from '../../model/resource-id.js';
import { requestDetail } from '../../render/request.js';
import type { ArgsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, emit, fetchRequest, requestIds, resolveRequestIds } from './shared.js';

export interface ShowOptions {
  ids: string[];
}

export function define() {
  return new Command('show')
    .alias('get')
    .description(
      'Show every field of one or more requests: reviews, threshold progress, annotations, resources.\n' +
        'JSON/YAML output is one request for one ID (as kubectl prints one object), an array for several.',
    )
    .argument('<ids...>', 'request IDs (commas also separate IDs)');
}

export function parse([ids]: ArgsOf<typeof define>): ShowOptions {
  return { ids: requestIds(ids) };
}

/**
 * Hostnames of the requested nodes that the caller can see, by node name. Best effort:
 * a failure (no permission, an older server) only means the IDs are shown alone.
 */
async function nodeHostnames(
  ctx: Context,
  conn: Connection,
  reqs: AccessRequest[],
): Promise<Map<string, string>> {
  const wanted = new Set<string>();
  for (const r of reqs) {
    for (const id of r.resources) {
      try {
        const parsed = parseResourceId(id);
        if (parsed.kind === 'node') wanted.add(parsed.name);
      } catch {
        // An ID this build cannot parse is shown as the server sent it.
      }
    }
  }
  if (wanted.size === 0) return new Map();
  const { nodeHostnames: lookup } = await import('../../client/resources.js');
  return lookup(conn, wanted, callOpts(ctx));
}

export async function run(ctx: Context, opts: ShowOptions): Promise<number> {
  const conn = await ctx.connect();
  const reqs: AccessRequest[] = [];
  for (const id of await resolveRequestIds(ctx, conn, opts.ids)) reqs.push(await fetchRequest(ctx, conn, id));
  const hostnames = ctx.format === 'text' ? await nodeHostnames(ctx, conn, reqs) : new Map<string, string>();
  const now = ctx.now();
  const width = ctx.io.stdoutIsTTY ? ctx.io.columns : undefined;
  // One ID asked for: one object, so `jq .state` works; several: an array (issue 23).
  await emit(ctx, opts.ids.length === 1 ? reqs[0] : reqs, () => {
    ctx.io.stdout.write(reqs.map((r) => requestDetail(r, now, hostnames, width)).join('\n'));
  });
  return 0;
}
