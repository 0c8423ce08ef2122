import type { ArgsOf, FlagsOf } from '../command.js';
import type { Context } from '../context.js';
import { defineDeny, parseResolve, type ResolveOptions, runResolve } from './resolve.js';

export type DenyOptions = ResolveOptions;

export function define() {
  return defineDeny();
}

export function parse(args: ArgsOf<typeof define>, flags: FlagsOf<typeof define>): DenyOptions {
  return parseResolve('DENIED', args, flags);
}

export function run(ctx: Context, opts: DenyOptions): Promise<number> {
  return runResolve(ctx, opts);
}
