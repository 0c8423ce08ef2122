import { appendFile, readFile } from 'node:fs/promises';
import { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../model/errors.js';
import type { FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { note } from './shared.js';

export interface WebhookServeOptions {
  config: string;
}

export function define() {
  return new Command('serve')
    .description(
      'Run the webhook bridge: POST signed access request changes to receivers (routed by ' +
        'access_monitoring_rules whose notification is "webhook", else webhook_url), at least once, ' +
        'and unless notify_only serve HTTPS callbacks that review requests. Reads the ' +
        'teleport-webhooks plugin configuration as is (see `access webhook configure`). Ctrl-C stops.',
    )
    .requiredOption('--config <file>', 'TOML configuration (the teleport-webhooks format)');
}

export function parse(_args: [], flags: FlagsOf<typeof define>): WebhookServeOptions {
  const { config } = flags;
  if (!config) throw new UsageError('missing --config FILE');
  return { config };
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export async function run(ctx: Context, opts: WebhookServeOptions): Promise<number> {
  const { parseWebhookConfig } = await import('../../webhook/config.js');
  const config = await parseWebhookConfig(await readText(opts.config, 'configuration'), opts.config);
  const secretText = config.webhook.signingSecretFile
    ? (await readText(config.webhook.signingSecretFile, 'signing secret')).trim()
    : (config.webhook.callbackSecret ?? '');
  if (secretText === '') throw new UsageError('the signing secret is empty');
  const secret = Buffer.from(secretText, 'utf8');
  const out = config.log.output;
  const log = (line: string) => {
    const stamped = `${ctx.io.now().toISOString()} ${line}\n`;
    if (out === 'stdout') ctx.io.stdout.write(stamped);
    else if (out === 'stderr' || out === '') ctx.io.stderr.write(stamped);
    else void appendFile(out, stamped, { mode: 0o600 }).catch(() => ctx.io.stderr.write(stamped));
  };

  const { readIdentityFile, readTlsTrio } = await import('../../identity/index.js');
  const credentials = config.teleport.identity
    ? await readIdentityFile(config.teleport.identity)
    : await readTlsTrio(config.teleport.clientCrt, config.teleport.clientKey, config.teleport.rootCas);
  const { connect } = await import('../../client/connect.js');
  const conn = await connect({
    credentials,
    authServer: config.teleport.authServer,
    now: () => ctx.io.now(),
  });
  const controller = new AbortController();
  const stop = () => controller.abort();
  ctx.io.signal?.addEventListener('abort', stop, { once: true });
  if (ctx.io.signal?.aborted) stop();
  try {
    const { serverInfo } = await import('../../client/probes.js');
    const pong = await serverInfo(conn);
    const { WebhookBridge } = await import('../../webhook/bridge.js');
    const bridge = await WebhookBridge.create({
      config,
      conn,
      secret,
      cluster: pong.clusterName,
      log,
      signal: controller.signal,
      now: () => ctx.io.now(),
    });
    let callback: { addr: string; close(): Promise<void> } | undefined;
    if (!config.webhook.notifyOnly) {
      const { startCallbackServer } = await import('../../webhook/callback.js');
      callback = await startCallbackServer({ config, conn, secret, log, now: () => ctx.io.now() });
      note(ctx, `callbacks on https://${callback.addr}/`);
    }
    note(
      ctx,
      `watching access requests of cluster ${pong.clusterName}; posting to ${config.webhook.url} (Ctrl-C to stop)`,
    );
    await bridge.run();
    await callback?.close();
    bridge.close();
  } finally {
    ctx.io.signal?.removeEventListener('abort', stop);
    conn.close();
  }
  return 0;
}
