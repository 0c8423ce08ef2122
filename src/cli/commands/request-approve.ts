import type { Command } from 'commander';
import type { Context } from '../context.js';
import { defineResolve, parseResolve, type ResolveOptions, runResolve } from './resolve.js';

export type ApproveOptions = ResolveOptions;

export function define(): Command {
  return defineResolve('approve');
}

export function parse(args: unknown[], flags: Record<string, unknown>): ApproveOptions {
  return parseResolve('APPROVED', args, flags);
}

export function run(ctx: Context, opts: ApproveOptions): Promise<number> {
  return runResolve(ctx, opts);
}
