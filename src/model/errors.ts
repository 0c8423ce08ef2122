/**
 * The error kinds of `access`. Every layer throws an AccessError (or an RpcError from
 * the client edge, which carries a gRPC code); only cli/main.ts turns kinds into exit
 * codes, using the table in spec/cli.md. Branch on `kind`, never on message text.
 */
export type ErrorKind =
  | 'usage' // 2: bad flag or input; nothing was changed
  | 'denied' // 3: the request was denied
  | 'timeout' // 4: --timeout while the request is still pending
  | 'expired' // 5: the request expired or was deleted while waiting
  | 'not-found' // 6
  | 'permission' // 7: permission denied or authentication failed
  | 'unavailable' // 8: the server cannot be reached
  | 'not-assumed' // 9: approved, but these credentials cannot assume it
  | 'interrupted' // 130
  | 'terminated' // 143: stopped by SIGTERM (128 + 15, the shell convention)
  | 'failure'; // 1

export const EXIT_CODES: Record<ErrorKind, number> = {
  failure: 1,
  usage: 2,
  denied: 3,
  timeout: 4,
  expired: 5,
  'not-found': 6,
  permission: 7,
  unavailable: 8,
  'not-assumed': 9,
  interrupted: 130,
  terminated: 143,
};

export class AccessError extends Error {
  override readonly name = 'AccessError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** A second line telling the user what to do next. */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Invalid input from the user: exit 2, and nothing has been changed. */
export class UsageError extends AccessError {
  constructor(message: string, hint?: string) {
    super('usage', message, hint);
  }
}

/** Collapses whitespace runs (newlines included), so a message always fits on one line. */
export function oneLine(text: string): string {
  // Teleport's errors (gravitational/trace UserMessage) put each wrapped cause on its own line,
  // one tab deeper: on one line they read as "context: cause".
  return text.replace(/\n\t+/g, ': ').replace(/\s+/g, ' ').trim();
}
