import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { defineApprove, parseResolve, type ResolveOptions, runResolve } from './resolve.js';

export type ApproveOptions = ResolveOptions;

export function define() {
  return defineApprove();
}

export function parse(args: ArgsOf<typeof define>, flags: FlagsOf<typeof define>): ApproveOptions {
  return parseResolve('APPROVED', args, flags);
}

export function run(ctx: Context, opts: ApproveOptions): Promise<number> {
  return runResolve(ctx, opts);
}
