import type { Command } from 'commander';
import type { Context } from '../context.js';
import { defineResolve, parseResolve, type ResolveOptions, runResolve } from './resolve.js';

export type DenyOptions = ResolveOptions;

export function define(): Command {
  return defineResolve('deny');
}

export function parse(args: unknown[], flags: Record<string, unknown>): DenyOptions {
  return parseResolve('DENIED', args, flags);
}

export function run(ctx: Context, opts: DenyOptions): Promise<number> {
  return runResolve(ctx, opts);
}
