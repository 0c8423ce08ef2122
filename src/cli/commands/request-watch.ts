import { Command } from 'commander';
import { type AccessRequest, stateName, stateNumber, type WatchEvent } from '../../model/request.js';
import { parseRequestId } from '../../model/request-id.js';
import { escapeControls } from '../../render/escape.js';
import type { Context } from '../context.js';
import { CONDITION_FLAG, CONDITION_HELP, requestCondition } from './condition.js';
import { note, str } from './shared.js';

export interface WatchOptions {
  /** State name to filter on, e.g. PENDING. */
  state?: string;
  user?: string;
  id?: string;
  /** An Access Monitoring Rule condition that PUT events must match. */
  condition?: string;
}

export function define(): Command {
  return new Command('watch')
    .description(
      'Stream changes to access requests until interrupted: one line per change (text:\n' +
        '`PUT <id> <user> <state>` / `DELETE <id>`; json: one WatchEvent object per line).\n' +
        'Reconnects when the stream breaks; each (re)connection starts with an `init` event, after\n' +
        'which changes missed while disconnected are not replayed: re-read with `ls` if they matter.\n' +
        'Ctrl-C is the normal way to stop: exit 0.',
    )
    .option('--state <state>', 'only requests in this state (deletions are always shown)')
    .option('--user <user>', 'only requests of this user (deletions are always shown)')
    .option('--id <id>', 'only this request')
    .option(CONDITION_FLAG, `${CONDITION_HELP}; deletions are always shown`);
}

export function parse(_args: unknown[], flags: Record<string, unknown>): WatchOptions {
  const state = str(flags, 'state');
  const id = str(flags, 'id');
  return {
    state: state === undefined ? undefined : stateName(stateNumber(state)),
    user: str(flags, 'user'),
    id: id === undefined ? undefined : parseRequestId(id),
    condition: str(flags, 'condition'),
  };
}

function textLine(e: WatchEvent): string | undefined {
  if (e.type === 'put' && e.request)
    return escapeControls(`PUT ${e.id} ${e.request.user} ${e.request.state}`);
  if (e.type === 'delete') return escapeControls(`DELETE ${e.id}`);
  return undefined;
}

export async function run(ctx: Context, opts: WatchOptions): Promise<number> {
  const matches = await requestCondition(opts.condition);
  const conn = await ctx.connect();
  const [{ requestFromProto }, { backoffDelay, isRetryableWatchError, sleep }, { isRpcError }] =
    await Promise.all([
      import('../../client/map.js'),
      import('../../client/wait.js'),
      import('../../client/errors.js'),
    ]);
  const signal = ctx.io.signal;
  const filter: Record<string, string> = {};
  if (opts.id) filter.id = opts.id;
  if (opts.user) filter.user = opts.user;
  if (opts.state) filter.state = opts.state;

  const emitEvent = (e: WatchEvent) => {
    if (ctx.format === 'json') ctx.io.stdout.write(`${JSON.stringify(e)}\n`);
    else if (ctx.format === 'yaml') ctx.io.stdout.write(`---\n${yamlDoc(e)}`);
    else {
      const line = textLine(e);
      if (line) ctx.io.stdout.write(`${line}\n`);
    }
  };
  let yamlMod: typeof import('../../render/yaml.js') | undefined;
  if (ctx.format === 'yaml') yamlMod = await import('../../render/yaml.js');
  const yamlDoc = (e: WatchEvent) => yamlMod!.toYaml(e);

  let failures = 0;
  while (!signal?.aborted) {
    try {
      for await (const event of conn.auth.watchEvents(
        { kinds: [{ kind: 'access_request', filter }] },
        { signal },
      )) {
        const res = event.resource;
        // Operation: 0 INIT, 1 PUT, 2 DELETE.
        if (event.type === 0) {
          failures = 0;
          note(ctx, 'Watching access requests (Ctrl-C to stop)...');
          emitEvent({ type: 'init', request: null, id: '' });
        } else if (event.type === 1 && res?.$case === 'accessRequest') {
          const request: AccessRequest = requestFromProto(res.value);
          if (!matches(request)) continue;
          emitEvent({ type: 'put', request, id: request.id });
        } else if (event.type === 2 && res?.$case === 'resourceHeader') {
          const id = res.value.metadata?.name ?? '';
          // The server does not filter deletions; an ID filter can still be applied here.
          if (res.value.kind !== 'access_request' || (opts.id && id !== opts.id)) continue;
          emitEvent({ type: 'delete', request: null, id });
        }
      }
      if (signal?.aborted) break;
    } catch (err) {
      if (signal?.aborted) break;
      // Teleport lets a caller without `read` on access_request watch only its own requests
      // (auth_with_roles.go: hasWatchPermissionForKind): fall back to those, once, and say so.
      if (isRpcError(err) && err.kind === 'permission' && filter.user === undefined) {
        filter.user = conn.identity.username;
        note(
          ctx,
          `note: you may not watch every user's requests (no "read" rule on access_request); watching ${conn.identity.username}'s own`,
        );
        continue;
      }
      if (!isRetryableWatchError(err)) throw err;
    }
    // The stream broke or ended: open it again after a backoff.
    failures++;
    if (failures === 1) note(ctx, 'Connection to the server lost; reconnecting...');
    await sleep(backoffDelay(failures), signal);
  }
  return 0;
}
