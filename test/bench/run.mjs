// Runs every test/bench/*.bench.mjs in turn (`npm run bench` builds dist/ first).
// Benchmarks print figures; they never assert, so only a crash fails the run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const only = process.argv.slice(2);
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const script of scripts) {
  process.stdout.write(`\n== ${script}\n`);
  const res = spawnSync(process.execPath, [join(dir, script)], { stdio: 'inherit' });
  if (res.status !== 0) {
    failed++;
    process.stdout.write(`${script} failed (exit ${res.status ?? res.signal})\n`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
