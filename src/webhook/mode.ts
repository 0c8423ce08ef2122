/**
 * How callbacks resolve a request, decided at start from what the bridge's identity may do,
 * found without changing anything (`client/probes.ts`):
 *
 * - `review`: submit a review as the identity, so thresholds apply; needs a role that allows
 *   reviewing (`review_requests`).
 * - `set-state`: set the state directly, as teleport-webhooks did (SetAccessRequestState);
 *   needs the `update` rule on access_request, which the plugin role of `sign-helper
 *   --print-rbac` and of the demo seed grants.
 *
 * `callback_sets_state` true or false asks for one mode, refused at start when the identity
 * may not use it; unset, the bridge reviews when it may, else sets the state when it may
 * (saying thresholds do not apply), else refuses to start, saying why and what to change.
 */
import type { Connection } from '../client/connect.js';
import { probeReviewRight, probeStateChangeRule } from '../client/probes.js';
import { AccessError } from '../model/errors.js';
import type { WebhookConfig } from './config.js';

export type CallbackMode = 'review' | 'set-state';

type Right = true | false | 'mfa' | string;

function whyNot(right: Right, user: string, what: 'review' | 'update'): string {
  if (right === 'mfa')
    return `the server requires an MFA-verified admin action of ${user}, which a bridge cannot give`;
  if (right === false) {
    return what === 'review'
      ? `user "${user}" cannot submit reviews (none of its roles allows review_requests)`
      : `user "${user}" may not change request states (no "update" rule on access_request)`;
  }
  return `checking whether ${user} may ${what === 'review' ? 'review' : 'change request states'} failed: ${right}`;
}

const FIXES =
  'allow review_requests in its role, or set callback_sets_state = true (needs the update rule on access_request), or notify_only = true under [webhook]';

/** Picks the callback mode for this identity and configuration, or refuses (exit 7) saying why. */
export async function chooseCallbackMode(
  conn: Connection,
  config: WebhookConfig,
): Promise<{ mode: CallbackMode; note: string; warn: boolean }> {
  const user = conn.identity.username;
  const call = { timeoutMs: conn.rpcTimeoutMs };
  const wanted = config.webhook.callbackSetsState;
  if (wanted === true) {
    const update = await probeStateChangeRule(conn, call);
    if (update !== true) {
      throw new AccessError(
        'permission',
        `callback_sets_state = true, but ${whyNot(update, user, 'update')}`,
        'grant it, set callback_sets_state = false to review instead, or notify_only = true',
      );
    }
    return {
      mode: 'set-state',
      note: `callbacks set the state directly as ${user} (callback_sets_state = true)`,
      warn: false,
    };
  }
  const review = await probeReviewRight(conn, call);
  if (review === true) {
    return { mode: 'review', note: `callbacks submit reviews as ${user}, so thresholds apply`, warn: false };
  }
  if (wanted === false) {
    throw new AccessError(
      'permission',
      `callback_sets_state = false, but ${whyNot(review, user, 'review')}`,
      FIXES,
    );
  }
  const update = await probeStateChangeRule(conn, call);
  if (update === true) {
    return {
      mode: 'set-state',
      note:
        `callbacks set the state directly, as teleport-webhooks did (thresholds do not apply): ${whyNot(review, user, 'review')}; ` +
        'to have them review instead, allow review_requests in its role (or set callback_sets_state = false to refuse this mode)',
      warn: true,
    };
  }
  throw new AccessError(
    'permission',
    `callbacks cannot work: ${whyNot(review, user, 'review')}, and ${whyNot(update, user, 'update')}`,
    FIXES,
  );
}
