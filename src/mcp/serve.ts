/**
 * `access mcp`: the access-request tools (tools.ts) served over MCP on stdio with the official
 * TypeScript SDK. stdout is the protocol, so everything else goes to stderr: one line per tool
 * call (tool, arguments, outcome, duration). None of the tools takes a secret, so arguments
 * are logged whole, escaped. A failure comes back as an MCP tool error carrying our one-line
 * message, its hint and its exit-code kind, never a stack trace.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Context } from '../cli/context.js';
import { AccessError, type ErrorKind, EXIT_CODES, oneLine } from '../model/errors.js';
import { escapeControls } from '../render/escape.js';
import type { IO } from '../render/io.js';
import { type Tool, tools } from './tools.js';

export interface McpOptions {
  allowReview: boolean;
  version: string;
}

const INSTRUCTIONS =
  'Teleport just-in-time access requests for the user whose credentials this server uses. ' +
  'When a command fails with "access denied", call whoami, then search_requestable, then create_access_request with a clear reason, ' +
  'tell the user which person must approve it, call wait_for_access_request, and call drop_access when the task is done. ' +
  "Reviews are for people: an agent never approves its own user's request.";

/** The one-line error a tool returns, with the kind and exit code a command would have ended with. */
export function toolError(err: unknown): { kind: ErrorKind; text: string } {
  const kind: ErrorKind = err instanceof AccessError ? err.kind : 'failure';
  const message = oneLine(err instanceof Error ? err.message : String(err)) || 'unexpected error';
  const hint = err instanceof AccessError && err.hint ? `\nhint: ${escapeControls(oneLine(err.hint))}` : '';
  return { kind, text: `error: ${escapeControls(message)} (${kind}, exit code ${EXIT_CODES[kind]})${hint}` };
}

/** Wraps a tool for the SDK: its own context and IO, cancellation, progress, the log line, errors. */
function handler(tool: Tool, base: Context, stopAll: AbortSignal) {
  return async (
    args: Record<string, unknown> | undefined,
    extra: {
      signal: AbortSignal;
      _meta?: { progressToken?: string | number };
      sendNotification: (n: {
        method: 'notifications/progress';
        params: { progressToken: string | number; progress: number; total?: number; message?: string };
      }) => Promise<void>;
    },
  ) => {
    const started = Date.now();
    const given = args ?? {};
    const signal = AbortSignal.any([extra.signal, stopAll]);
    const log = (outcome: string) =>
      base.io.stderr.write(
        `mcp: ${tool.name} ${escapeControls(JSON.stringify(given))} -> ${escapeControls(outcome)} (${Date.now() - started}ms)\n`,
      );
    // stdout carries the protocol: nothing a tool does may write there, and nothing asks at a terminal.
    const io: IO = {
      ...base.io,
      stdout: base.io.stderr,
      stdoutIsTTY: false,
      stderrIsTTY: false,
      signal,
      ask: undefined,
    };
    const ctx = base.fork(io);
    const token = extra._meta?.progressToken;
    try {
      const answer = await tool.run(
        {
          ctx,
          signal,
          progress: async (progress, total, message) => {
            if (token === undefined) return;
            // A client that went away cannot be told; the wait itself goes on to its end.
            await extra
              .sendNotification({
                method: 'notifications/progress',
                params: {
                  progressToken: token,
                  progress,
                  ...(total === undefined ? {} : { total }),
                  message,
                },
              })
              .catch(() => undefined);
          },
        },
        given,
      );
      log(`ok: ${answer.text}`);
      return {
        content: [{ type: 'text' as const, text: answer.text }],
        structuredContent: answer.structured,
      };
    } catch (err) {
      const e = toolError(err);
      log(e.text.replace(/\n/g, ' '));
      return { content: [{ type: 'text' as const, text: e.text }], isError: true };
    } finally {
      await ctx.close();
    }
  };
}

/**
 * Serves the tools on stdin/stdout until the client closes stdin or a signal stops the
 * process; calls still running are cancelled then.
 */
export async function serveMcp(ctx: Context, opts: McpOptions): Promise<void> {
  const stdin = ctx.io.stdin;
  if (!stdin) throw new AccessError('failure', 'no standard input to serve MCP on');
  const server = new McpServer(
    { name: 'access', title: 'Teleport access requests', version: opts.version },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  const stop = new AbortController();
  const served = tools({ allowReview: opts.allowReview });
  for (const tool of served) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        outputSchema: tool.output,
        annotations: tool.annotations,
      },
      // The SDK types the callback from the schema; the tools check their own arguments' types.
      handler(tool, ctx, stop.signal) as never,
    );
  }
  const transport = new StdioServerTransport(stdin as never, ctx.io.stdout as never);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  const close = () => {
    stop.abort();
    void server.close();
  };
  stdin.once('end', close);
  stdin.once('close', close);
  ctx.io.signal?.addEventListener('abort', close, { once: true });
  if ((stdin as { isTTY?: boolean }).isTTY) {
    ctx.io.stderr.write(
      'mcp: this speaks MCP (JSON-RPC) on stdin and stdout for an MCP client to start; `access mcp --print-config` prints its entry\n',
    );
  }
  await server.connect(transport);
  ctx.io.stderr.write(
    `mcp: serving ${served.map((t) => t.name).join(', ')} on stdio as ${opts.allowReview ? 'a requester and reviewer' : 'a requester (reviews stay with people)'}\n`,
  );
  await closed;
  ctx.io.signal?.removeEventListener('abort', close);
}
