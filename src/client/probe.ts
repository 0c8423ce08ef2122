import * as tls from 'node:tls';
import { CLOSED_AFTER_HANDSHAKE } from './errors.js';

/** The HTTP/2 client preface plus an empty SETTINGS frame: any h2 server answers it at once. */
const H2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

/**
 * Opens one TLS connection with `options` and reports how it failed, or undefined when
 * the server completed the handshake and answered. Used when a call fails UNAVAILABLE
 * and the session's own socket error does not say why. Never takes longer than `timeoutMs`.
 *
 * With TLS 1.3 a server refuses the client certificate only after the client considers
 * the handshake done, so the probe sends the h2 preface and waits for the first bytes
 * back: an alert then surfaces as the error.
 */
export function probeTls(options: tls.ConnectionOptions, timeoutMs: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    let handshakeDone = false;
    const socket = tls.connect(options);
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(err);
    };
    // A server that completed the handshake but stays silent is slow, not broken.
    const timer = setTimeout(
      () =>
        finish(
          handshakeDone ? undefined : Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' }),
        ),
      timeoutMs,
    );
    socket.once('secureConnect', () => {
      handshakeDone = true;
      socket.once('data', () => finish());
      socket.write(H2_PREFACE);
    });
    socket.once('error', (err) => finish(err));
    socket.once('close', () =>
      finish(
        handshakeDone
          ? Object.assign(new Error('connection closed after the TLS handshake'), {
              code: CLOSED_AFTER_HANDSHAKE,
            })
          : Object.assign(new Error('connection closed by the server'), { code: 'EPIPE' }),
      ),
    );
  });
}
