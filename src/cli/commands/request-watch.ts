import { Command } from '@commander-js/extra-typings';
import { stateName, stateNumber, type WatchEvent } from '../../model/request.js';
import { parseRequestId } from '../../model/request-id.js';
import { escapeControls } from '../../render/escape.js';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { CONDITION_FLAG, CONDITION_HELP, requestCondition } from './condition.js';
import { note } from './shared.js';

export interface WatchOptions {
  /** State name to filter on, e.g. PENDING. */
  state?: string;
  user?: string;
  id?: string;
  /** An Access Monitoring Rule condition that PUT events must match. */
  condition?: string;
}

export function define() {
  return new Command('watch')
    .description(
      'Stream changes to access requests until interrupted: one line per change (text:\n' +
        '`PUT <id> <user> <state>` / `DELETE <id>`; json: one WatchEvent object per line).\n' +
        'Reconnects when the stream breaks; each (re)connection starts with an `init` event, after ' +
        'which changes missed while disconnected are not replayed: re-read with `ls` if they matter.\n' +
        'Ctrl-C is the normal way to stop: exit 0.',
    )
    .option('--state <state>', 'only requests in this state (deletions are always shown)')
    .option('--user <user>', 'only requests of this user (deletions are always shown)')
    .option('--id <id>', 'only this request')
    .option(CONDITION_FLAG, `${CONDITION_HELP}; deletions are always shown`);
}

export function parse(_args: [], flags: FlagsOf<typeof define>): WatchOptions {
  const { state, id } = flags;
  return {
    state: state === undefined ? undefined : stateName(stateNumber(state)),
    user: flags.user,
    id: id === undefined ? undefined : parseRequestId(id),
    condition: flags.condition,
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
  const { watchRequests } = await import('../../client/watch.js');
  let yamlMod: typeof import('../../render/yaml.js') | undefined;
  if (ctx.format === 'yaml') yamlMod = await import('../../render/yaml.js');
  const emitEvent = (e: WatchEvent) => {
    if (ctx.format === 'json') ctx.io.stdout.write(`${JSON.stringify(e)}\n`);
    else if (ctx.format === 'yaml') ctx.io.stdout.write(`---\n${yamlMod!.toYaml(e)}`);
    else {
      const line = textLine(e);
      if (line) ctx.io.stdout.write(`${line}\n`);
    }
  };
  await watchRequests(
    conn,
    { id: opts.id, user: opts.user, state: opts.state },
    {
      onEvent(e) {
        if (e.type === 'init') note(ctx, 'Watching access requests (Ctrl-C to stop)...');
        if (e.type === 'put' && e.request && !matches(e.request)) return;
        emitEvent(e);
      },
      onReconnect(attempt) {
        if (attempt === 1) note(ctx, 'Connection to the server lost; reconnecting...');
      },
      onOwnRequestsOnly(user) {
        note(
          ctx,
          `note: you may not watch every user's requests (no "read" rule on access_request); watching ${user}'s own`,
        );
      },
    },
    ctx.io.signal,
  );
  return 0;
}
