/**
 * The bridge's log: one line per event, `<time> <LEVEL> webhook: …`, to `[log] output`
 * (stderr, stdout or a file), filtered by `[log] severity` as the teleport-webhooks logger
 * did (lib/logger: DEBUG and INFO show everything, WARN hides INFO, ERROR shows errors only).
 */
import { appendFile } from 'node:fs/promises';
import type { IO } from '../render/io.js';
import type { WebhookConfig } from './config.js';

export type LogLevel = 'info' | 'warn' | 'error';
export type WebhookLog = (level: LogLevel, line: string) => void;

const RANK: Record<LogLevel, number> = { info: 1, warn: 2, error: 3 };
const THRESHOLD: Record<string, number> = { debug: 0, info: 1, warn: 2, warning: 2, error: 3 };

export function webhookLog(config: WebhookConfig, io: IO): WebhookLog {
  const out = config.log.output;
  const threshold = THRESHOLD[config.log.severity.toLowerCase()] ?? 1;
  return (level, line) => {
    if (RANK[level] < threshold) return;
    const stamped = `${io.now().toISOString()} ${level.toUpperCase()} ${line}\n`;
    if (out === 'stdout') io.stdout.write(stamped);
    else if (out === 'stderr' || out === '') io.stderr.write(stamped);
    else void appendFile(out, stamped, { mode: 0o600 }).catch(() => io.stderr.write(stamped));
  };
}

/** A receiver URL as logged: no credentials, no query (either may carry a token). */
export function receiverForLog(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
