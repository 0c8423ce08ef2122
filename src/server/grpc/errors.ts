/**
 * The one mapping from a thrown error to a gRPC status.
 */

import type { ServerErrorResponse } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { AccessError } from '../../model/errors.js';
import { clipText } from '../../model/limits.js';
import { ServerError } from '../types.js';

/** A gRPC status for a thrown error: ServerError keeps its code; anything else is UNKNOWN. */
export function toServiceError(err: unknown, log?: (line: string) => void): ServerErrorResponse {
  let code: status;
  let message: string;
  if (err instanceof ServerError) {
    code = err.code;
    message = err.message;
  } else if (err instanceof AccessError) {
    code =
      err.kind === 'usage'
        ? status.INVALID_ARGUMENT
        : err.kind === 'permission'
          ? status.PERMISSION_DENIED
          : err.kind === 'not-found'
            ? status.NOT_FOUND
            : status.UNKNOWN;
    message = err.message;
  } else {
    code = status.UNKNOWN;
    message = err instanceof Error ? err.message : String(err);
    log?.(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : message}`);
  }
  // A status message travels in an HTTP/2 trailer: bounded, so it always fits the peer's limit.
  message = clipText(message);
  return Object.assign(new Error(message), { code, details: message });
}
