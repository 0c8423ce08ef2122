import { UsageError } from '../model/errors.js';

export const CONN_UPGRADE_ENV = 'TELEPORT_TLS_ROUTING_CONN_UPGRADE';
export const CONN_UPGRADE_MODE_ENV = 'TELEPORT_TLS_ROUTING_CONN_UPGRADE_MODE';

/** api/utils/utils.go, ParseBool: the spellings Teleport accepts, case-insensitive. */
const TRUE_WORDS = new Set(['yes', 'yeah', 'y', 'true', '1', 'on']);
const FALSE_WORDS = new Set(['no', 'nope', 'n', 'false', '0', 'off']);

function parseTeleportBool(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  return undefined;
}

/**
 * What TELEPORT_TLS_ROUTING_CONN_UPGRADE says for the Proxy at `addr` (`host:port`), as
 * api/client/alpn_conn_upgrade.go `isALPNConnUpgradeRequiredByEnv` reads it: conditions
 * separated by `,` or `;`, each `<bool>` (every address; the last one wins) or
 * `<addr>=<bool>` (that address; the first match wins); an address not named gets the
 * bare value, else false. Returns undefined when the variable is unset or empty.
 *
 * Teleport logs a malformed condition at debug level and skips it; here it is a usage
 * error, so a typo never silently changes how the Proxy is reached. Teleport matches
 * `<addr>=` anywhere inside a condition (strings.Cut); here the address must be the whole
 * left-hand side.
 */
export function connUpgradeRequiredByEnv(value: string | undefined, addr: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const tokens = value.split(/[;,]/).filter((t) => t !== '');
  const bad = (token: string, why: string) =>
    new UsageError(
      `invalid ${CONN_UPGRADE_ENV} ${JSON.stringify(value)}: ${JSON.stringify(token)} ${why}`,
      'use true/false, or ADDRESS=true/false pairs separated by commas (e.g. proxy.example.com:443=true)',
    );
  let forAll = false;
  let forAddr: boolean | undefined;
  for (const token of tokens) {
    const eq = token.indexOf('=');
    if (eq < 0) {
      const b = parseTeleportBool(token);
      if (b === undefined) throw bad(token, 'is not a boolean');
      forAll = b;
      continue;
    }
    const key = token.slice(0, eq);
    const b = parseTeleportBool(token.slice(eq + 1));
    if (key === '') throw bad(token, 'names no address');
    if (b === undefined) throw bad(token, 'does not end in a boolean');
    if (key === addr && forAddr === undefined) forAddr = b;
  }
  return forAddr ?? forAll;
}
