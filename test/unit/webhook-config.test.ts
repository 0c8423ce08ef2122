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
    expect(await failure(BASE.replace('callback_secret = "s"\n', ''))).toBe(
      'w.toml: no signing secret: every POST is signed',
    );
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
