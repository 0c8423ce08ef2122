/**
 * What a tsh or tctl user types out of habit, answered with our spelling (issue 23). Names
 * that mean exactly the same are accepted as hidden aliases where they are declared
 * (`--my-requests`, `--kube-namespace`); this covers the rest, and a command of a group given
 * without its group (`access ls`). Used by main.ts when commander has no suggestion of its own.
 */
import { COMMANDS } from './manifest.js';

/** Options of tsh/tctl spelled differently here, with what to use instead. */
const OPTIONS: Readonly<Record<string, string>> = {
  '--sort-index': 'tctl’s --sort-index is --sort here (created, state or user)',
  '--sort-order': 'tctl’s --sort-order is --asc here (newest first is the default)',
  '--request-roles': 'tsh login --request-roles is `access request create --roles ROLES` here',
  '--request-reason': 'tsh login --request-reason is `access request create --reason TEXT` here',
  '--request-id':
    'tsh login --request-id is `access request assume ID` here (`access request wait ID` waits first)',
  '--request-nowait': 'tsh login --request-nowait is `access request create --nowait` here',
  '--author':
    'tctl’s review --author is the identity you connect with here: run `access request review ID --approve` as the reviewer',
  // tsh and tctl head the column "Status"; here it is State, as the --state filter, `--sort
  // state`, the JSON field and Teleport's API (RequestState, AccessRequestFilter.State) name it.
  '--status': 'the request state is --state here (PENDING, APPROVED, DENIED, PROMOTED)',
  '--verbose': 'tables show every column the terminal has room for; `-f json` shows every field',
};

/** Commands of tsh/tctl spelled differently here. */
const COMMANDS_BY_TSH_NAME: Readonly<Record<string, string>> = {
  login:
    'tsh login --request-id/--request-roles is `access request assume ID` / `access request create --roles ROLES` here',
  details: 'did you mean show?',
};

/** A hint for commander's `unknown option '--x'` / `unknown command 'x'` message, if we know the name. */
export function tshNameHint(message: string, commandPath: string): string | undefined {
  const option = /^unknown option '([^'=]+)/.exec(message)?.[1];
  if (option !== undefined) return OPTIONS[option];
  const command = /^unknown command '([^']+)'/.exec(message)?.[1];
  if (command === undefined) return undefined;
  if (Object.hasOwn(COMMANDS_BY_TSH_NAME, command)) return COMMANDS_BY_TSH_NAME[command];
  // `access ls`: a command of a group, given without the group.
  if (commandPath === 'access') {
    for (const entry of COMMANDS) {
      if (entry.kind !== 'group') continue;
      const leaf = entry.commands.find((c) => c.name === command || c.aliases.includes(command));
      if (leaf) return `did you mean \`access ${entry.name} ${leaf.name}\`?`;
    }
  }
  return undefined;
}
