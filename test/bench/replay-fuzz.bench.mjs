// Replay fuzz at scale (run after `npm run build`; `npm run bench` does both): the property
// of test/reliability/replay-fuzz.test.ts over many more generated logs, and larger ones.
// Set REPLAY_FUZZ_RUNS to change the count. A counterexample crashes the run with its seed.
import * as frame from '../../dist/server/storage/log-frame.js';
import { fuzzReplay } from '../helpers/log-fuzz.mjs';

const runs = Number(process.env.REPLAY_FUZZ_RUNS) || 200_000;
for (const maxRecords of [16, 200]) {
  const n = maxRecords > 16 ? Math.ceil(runs / 20) : runs;
  const seed = Date.now() | 0;
  const t0 = performance.now();
  fuzzReplay(frame, { numRuns: n, maxRecords, seed });
  const ms = performance.now() - t0;
  console.log(
    `replay fuzz: ${n} logs of up to ${maxRecords} records, seed ${seed}: property held; ` +
      `${Math.round((n / ms) * 1000)} logs/s`,
  );
}
