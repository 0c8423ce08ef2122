import { describe, expect, it } from 'vitest';
import { AccessError } from '../../src/model/errors.js';
import { CONFIG_TEMPLATE, parseWebhookConfig } from '../../src/webhook/config.js';

const BASE = `[teleport]
auth_server = "auth.example.com:3025"
[webhook]
webhook_url = "https://hooks.example.com/x"
notify_only = true
callback_secret = "s"
`;

async function failure(text: string): Promise<string> {
  try {
    await parseWebhookConfig(text, 'w.toml');
  } catch (err) {
    expect(err).toBeInstanceOf(AccessError);
    return (err as Error).message;
  }
  throw new Error('expected a failure');
}

describe('teleport-webhooks configuration', () => {
  it('reads the plugin defaults: Pending only, listen :8081, the trio file names', async () => {
    const c = await parseWebhookConfig(BASE, 'w.toml');
    expect(c.webhook.states).toEqual({ Pending: true, Approved: false, Denied: false, Deleted: false });
    expect(c.http.listenAddr).toBe(':8081');
    expect(c.teleport).toMatchObject({
      clientKey: 'client.key',
      clientCrt: 'client.pem',
      rootCas: 'cas.pem',
    });
  });

  it('accepts request_states (the example) and request_statuses (the code)', async () => {
    for (const key of ['request_states', 'request_statuses']) {
      const c = await parseWebhookConfig(
        `${BASE}${key} = { "Approved" = true, "Deleted" = true }\n`,
        'w.toml',
      );
      expect(c.webhook.states).toEqual({ Pending: false, Approved: true, Denied: false, Deleted: true });
    }
  });

  it('refuses what would be unsafe or ambiguous, naming the key', async () => {
    expect(await failure(BASE.replace('https://hooks', 'http://hooks'))).toContain('must use https://');
    expect(await failure(BASE.replace('webhook_url = "https://hooks.example.com/x"\n', ''))).toBe(
      'w.toml: missing required value webhook.webhook_url',
    );
    expect(await failure(`${BASE}request_states = { "Pendng" = true }\n`)).toContain(
      'unknown state "Pendng"',
    );
    expect(await failure(`${BASE}webhok = 1\n`)).toContain('unknown key "webhok"');
    expect(await failure(BASE.replace('notify_only = true', 'notify_only = false'))).toContain(
      'https_key_file',
    );
    expect(await failure(`${BASE}[http.basic_auth]\npassword = "p"\n`)).toContain(
      'password is set without user',
    );
  });

  it('callback_window must be a finite number of seconds above 0, at most a day (issue 22)', async () => {
    // TOML's nan and inf parse as numbers; either would make every timestamp fresh.
    for (const bad of ['nan', '+nan', 'inf', '-inf', '0', '-5', '86401', '"300"', '1e400']) {
      expect(await failure(`${BASE}callback_window = ${bad}\n`), bad).toBe(
        'w.toml: webhook.callback_window must be a number of seconds above 0 and at most 86400 (a day)',
      );
    }
    const c = await parseWebhookConfig(`${BASE}callback_window = 0.5\n`, 'w.toml');
    expect(c.webhook.callbackWindowSeconds).toBe(0.5);
  });

  it('a configuration without any signing secret parses: serve generates one (issue 20)', async () => {
    const c = await parseWebhookConfig(BASE.replace('callback_secret = "s"\n', ''), 'w.toml');
    expect(c.webhook.signingSecretFile).toBeUndefined();
    expect(c.webhook.callbackSecret).toBeUndefined();
  });

  it('callback_sets_state: unset lets the bridge pick; true and false ask for one mode', async () => {
    expect((await parseWebhookConfig(BASE, 'w.toml')).webhook.callbackSetsState).toBeUndefined();
    for (const v of [true, false]) {
      const c = await parseWebhookConfig(`${BASE}callback_sets_state = ${v}\n`, 'w.toml');
      expect(c.webhook.callbackSetsState).toBe(v);
    }
  });

  it('accepts plain http for loopback receivers only', async () => {
    const c = await parseWebhookConfig(
      BASE.replace('https://hooks.example.com/x', 'http://127.0.0.1:9/x'),
      'w.toml',
    );
    expect(c.webhook.url).toBe('http://127.0.0.1:9/x');
  });

  it('prints a template that parses (once its files exist)', async () => {
    const c = await parseWebhookConfig(CONFIG_TEMPLATE, 'template.toml');
    expect(c.webhook.states.Deleted).toBe(true);
  });
});
