import type * as LogFrame from '../../src/server/log-frame.js';

type FrameModule = Pick<typeof LogFrame, 'MAGIC' | 'encodeFrame' | 'scanFrames'>;

export function checkReplay(
  frame: FrameModule,
  log: { data: Buffer; spans: { start: number; end: number }[] },
  damaged: Buffer,
): string | undefined;

export function fuzzReplay(
  frame: FrameModule,
  opts: { numRuns: number; maxRecords?: number; seed?: number },
): void;
