import { Command } from '@commander-js/extra-typings';
import type { Connection, WaitOutcome } from '../../client/index.js';
import { cannotAssumeReason } from '../../identity/types.js';
import { parseDuration } from '../../model/duration.js';
import { AccessError, UsageError } from '../../model/errors.js';
import { type AccessRequest, approvalProgressText } from '../../model/request.js';
import { escapeControls } from '../../render/escape.js';
import { printStructured } from '../../render/format.js';
import { requestDetail } from '../../render/request.js';
import { startSpinner } from '../../render/spinner.js';
import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { callOpts, fetchRequest, note, requestIds, resolveRequestIds } from './shared.js';

export interface WaitOptions {
  id: string;
  timeoutMs?: number;
  /** Re-issue the certificate with the request once approved. */
  assume: boolean;
}

export function define() {
  return new Command('wait')
    .description(
      'Wait for a request to be resolved (resume after `create --nowait`, a timeout or Ctrl-C).\n' +
        'On approval the certificate is re-issued with the request assumed. Exit codes: 0 approved, ' +
        '3 denied, 4 --timeout, 5 expired or deleted, 130 interrupted.',
    )
    .argument('<id>', 'request ID')
    .option('--timeout <duration>', 'give up after this long (exit 4), e.g. 10m')
    .option('--no-assume', 'do not re-issue the certificate on approval');
}

/** Parses `--timeout`, which must be positive. */
export function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text, 'timeout');
  if (ms <= 0) throw new UsageError('--timeout must be greater than zero');
  return ms;
}

export function parse(args: ArgsOf<typeof define>, flags: FlagsOf<typeof define>): WaitOptions {
  const [id, ...rest] = requestIds(args);
  if (rest.length > 0) throw new UsageError('wait takes one request ID');
  return { id, timeoutMs: parseTimeout(flags.timeout), assume: flags.assume };
}

function resumeCommand(id: string): string {
  return `access request wait ${id}`;
}

export async function printRequest(ctx: Context, req: AccessRequest): Promise<void> {
  if (ctx.format === 'text') ctx.io.stdout.write(requestDetail(req, ctx.now()));
  else await printStructured(ctx.io, ctx.format, req);
}

/**
 * Re-issues the caller's certificate with `id` added to the requests it already assumes,
 * and writes it back where it came from (client/reissue.ts: assumeRequest). A TLS trio is
 * left alone, with a note.
 */
export async function assume(
  ctx: Context,
  conn: Connection,
  id: string,
  lead = 'Approval received, getting updated certificates...',
): Promise<void> {
  const { assumeRequest } = await import('../../client/reissue.js');
  if (conn.credentials.source.kind === 'tls-trio') {
    note(
      ctx,
      'note: credentials from --cert/--key/--ca are not rewritten; the certificate was not re-issued',
    );
    return;
  }
  note(ctx, lead);
  const assumed = await assumeRequest(conn, id, callOpts(ctx));
  if (assumed.saved === 'read-only' || !assumed.identity) {
    note(ctx, 'note: the credentials are read-only; the re-issued certificate was not saved');
    return;
  }
  note(
    ctx,
    `Certificate re-issued for ${assumed.identity.username} with roles ${assumed.identity.roles.join(', ')} (saved to ${assumed.where})`,
  );
}

/**
 * The error that ends a wait on `id` that did not end in approval: its kind is the exit
 * code (denied 3, timeout 4, expired or deleted 5, interrupted 130). `resume` is the
 * command that waits again.
 */
export function waitFailure(
  outcome: Exclude<WaitOutcome, 'approved'>,
  id: string,
  req: AccessRequest | undefined,
  resume: string,
): AccessError {
  switch (outcome) {
    case 'denied':
    case 'promoted': {
      const state = outcome === 'denied' ? 'DENIED' : 'PROMOTED';
      const reason = req?.resolve_reason ? `, reason=${JSON.stringify(req.resolve_reason)}` : '';
      return new AccessError(
        outcome === 'denied' ? 'denied' : 'failure',
        `request ${id} has been set to ${state}${reason}`,
        outcome === 'promoted'
          ? 'access was granted through an Access List; log in again to use it'
          : undefined,
      );
    }
    case 'deleted':
      return new AccessError('expired', `request ${id} has expired or been deleted`);
    case 'expired':
      return new AccessError('expired', `request ${id} expired while pending`);
    case 'timeout':
      return new AccessError(
        'timeout',
        `timed out waiting for request ${id}; it is still pending`,
        `resume with: ${resume}`,
      );
    case 'interrupted':
      return new AccessError(
        'interrupted',
        `stopped waiting for request ${id}; it is still pending`,
        `resume with: ${resume}`,
      );
  }
}

/**
 * Waits for `id` with a spinner on a TTY; the result as the client saw it, the request
 * mapped to the domain.
 */
export async function waitWithSpinner(
  ctx: Context,
  conn: Connection,
  id: string,
  opts: { timeoutMs?: number; user: string },
): Promise<{ outcome: WaitOutcome; request?: AccessRequest }> {
  const { waitForRequest } = await import('../../client/wait.js');
  const waiting = `Waiting for request ${id} to be resolved...`;
  const spinner = await startSpinner(ctx.io, waiting);
  let shown = '';
  try {
    return await waitForRequest(conn, id, {
      user: opts.user,
      timeoutMs: opts.timeoutMs,
      signal: ctx.io.signal,
      // Reviews short of a threshold show as "1 of 2 approvals": on the spinner at a terminal,
      // as a line of their own in a log.
      onUpdate: (req) => {
        if (req.state !== 'PENDING' || req.reviews.length === 0) return;
        const progress = approvalProgressText(req);
        if (progress === shown) return;
        shown = progress;
        if (spinner.live) spinner.update(`${waiting} (${progress})`);
        else spinner.log(`Request ${id}: ${progress}`);
      },
      onReconnect: (attempt) => {
        if (attempt === 1) spinner.log('Connection to the server lost; reconnecting...');
      },
    });
  } finally {
    spinner.stop();
  }
}

/**
 * Waits for `id` and turns the outcome into output and an exit code: on approval the
 * request is assumed (unless disabled) and printed, exit 0; every other outcome is an
 * AccessError whose kind is the exit code. With JSON/YAML, the request as last seen is
 * printed for every outcome but deletion, so stdout always holds one document.
 */
export async function waitAndReport(
  ctx: Context,
  conn: Connection,
  id: string,
  opts: { timeoutMs?: number; assume: boolean; user: string },
): Promise<number> {
  const { outcome, request: req } = await waitWithSpinner(ctx, conn, id, opts);
  if (outcome !== 'approved') {
    if (req && ctx.format !== 'text' && outcome !== 'deleted') await printRequest(ctx, req);
    throw waitFailure(outcome, id, req, resumeCommand(id));
  }
  if (!req) throw new AccessError('failure', `request ${id} was approved but could not be read`);
  if (req.resolve_reason !== '')
    note(ctx, `Approved, reason=${escapeControls(JSON.stringify(req.resolve_reason))}`);
  const refused = cannotAssumeReason(conn.identity);
  if (opts.assume && req.user === conn.identity.username && refused) {
    await printRequest(ctx, req);
    const { impersonatedError } = await import('../../client/reissue.js');
    throw impersonatedError(id, refused, resumeCommand(id));
  }
  if (opts.assume && req.user === conn.identity.username) await assume(ctx, conn, id);
  else if (opts.assume)
    note(ctx, `note: the request is ${escapeControls(req.user)}'s, so your certificate was not re-issued`);
  await printRequest(ctx, req);
  return 0;
}

export async function run(ctx: Context, opts: WaitOptions): Promise<number> {
  const conn = await ctx.connect();
  // An ID that never existed (or is not visible) is "not found", not "expired while waiting".
  const [id] = await resolveRequestIds(ctx, conn, [opts.id]);
  const req = await fetchRequest(ctx, conn, id);
  note(ctx, `Waiting for request ${id} (Ctrl-C to stop)...`);
  return waitAndReport(ctx, conn, id, { ...opts, user: req.user });
}
