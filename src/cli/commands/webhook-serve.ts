import { Command } from '@commander-js/extra-typings';
import { readUserFile } from '../../identity/files.js';
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
        'and unless notify_only serve HTTPS callbacks that review requests (or set their state when the identity may not review). Reads the ' +
        'teleport-webhooks plugin configuration as is (see `access webhook configure`). Ctrl-C stops.',
    )
    .requiredOption('--config <file>', 'TOML configuration (the teleport-webhooks format)');
}

export function parse(_args: [], flags: FlagsOf<typeof define>): WebhookServeOptions {
  const { config } = flags;
  if (!config) throw new UsageError('missing --config FILE');
  return { config };
}

export async function run(ctx: Context, opts: WebhookServeOptions): Promise<number> {
  const { parseWebhookConfig } = await import('../../webhook/config.js');
  const config = await parseWebhookConfig(
    (await readUserFile(opts.config, 'configuration')).toString('utf8'),
    opts.config,
  );
  const { checkPrivateFile, describeSigningSecret, loadSigningSecret } = await import(
    '../../webhook/secret.js'
  );
  if (config.teleport.identity) await checkPrivateFile(config.teleport.identity, 'identity file');
  else await checkPrivateFile(config.teleport.clientKey, 'client key');
  if (!config.webhook.notifyOnly) await checkPrivateFile(config.http.keyFile, 'HTTPS key');
  // Every file the configuration names is read before anything connects or is written.
  const caPem = config.webhook.caFile
    ? (await readUserFile(config.webhook.caFile, 'ca_file')).toString('utf8')
    : undefined;
  const tls = config.webhook.notifyOnly
    ? undefined
    : {
        key: await readUserFile(config.http.keyFile, 'https_key_file'),
        cert: await readUserFile(config.http.certFile, 'https_cert_file'),
      };
  const signing = await loadSigningSecret(config);
  const { receiverForLog, webhookLog } = await import('../../webhook/log.js');
  const log = webhookLog(config, ctx.io);

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
    let mode: import('../../webhook/mode.js').CallbackMode | undefined;
    if (!config.webhook.notifyOnly) {
      const { chooseCallbackMode } = await import('../../webhook/mode.js');
      const chosen = await chooseCallbackMode(conn, config);
      mode = chosen.mode;
      log(chosen.warn ? 'warn' : 'info', `webhook: ${chosen.note}`);
    }
    log('info', describeSigningSecret(signing));
    const { WebhookBridge } = await import('../../webhook/bridge.js');
    const bridge = await WebhookBridge.create({
      config,
      conn,
      secret: signing.key,
      caPem,
      cluster: pong.clusterName,
      log,
      signal: controller.signal,
      now: () => ctx.io.now(),
    });
    let callback: { addr: string; close(): Promise<void> } | undefined;
    if (mode && tls) {
      const { startCallbackServer } = await import('../../webhook/callback.js');
      callback = await startCallbackServer({
        config,
        conn,
        secret: signing.key,
        tls,
        mode,
        log,
        now: () => ctx.io.now(),
      });
      note(ctx, `callbacks on https://${callback.addr}/`);
    }
    note(
      ctx,
      `watching access requests of cluster ${pong.clusterName}; posting to ${receiverForLog(config.webhook.url)} (Ctrl-C to stop)`,
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
