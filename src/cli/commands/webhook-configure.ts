import { Command } from '@commander-js/extra-typings';
import type { Context } from '../context.js';

export type WebhookConfigureOptions = Record<string, never>;

export function define() {
  return new Command('configure').description(
    'Print a commented configuration template for `access webhook serve` (the teleport-webhooks ' +
      'format plus our keys: signing_secret_file, endpoints, state_file, callback_window).',
  );
}

export function parse(): WebhookConfigureOptions {
  return {};
}

export async function run(ctx: Context): Promise<number> {
  const { CONFIG_TEMPLATE } = await import('../../webhook/config.js');
  ctx.io.stdout.write(CONFIG_TEMPLATE);
  return 0;
}
