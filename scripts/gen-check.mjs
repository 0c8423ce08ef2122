// Fails when committed generated files differ from what the generators produce now:
// src/gen (buf + ts-proto), completions/ and man/ (from the commander tree).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p).map((f) => join(name, f)));
    else out.push(name);
  }
  return out.sort();
}

function compare(label, expectedDir, actualDir) {
  const expected = listFiles(expectedDir);
  const actual = listFiles(actualDir);
  const problems = [];
  for (const f of new Set([...expected, ...actual])) {
    const e = join(expectedDir, f);
    const a = join(actualDir, f);
    if (!existsSync(a)) problems.push(`missing ${join(label, f)}`);
    else if (!existsSync(e)) problems.push(`unexpected ${join(label, f)}`);
    else if (!readFileSync(e).equals(readFileSync(a))) problems.push(`stale ${join(label, f)}`);
  }
  return problems;
}

const tmp = mkdtempSync(join(tmpdir(), 'access-gen-'));
const problems = [];
try {
  execFileSync('npx', ['buf', 'generate', '--output', tmp], { stdio: 'inherit' });
  problems.push(...compare('src/gen', join(tmp, 'src/gen'), 'src/gen'));
  if (existsSync('scripts/gen-docs.mjs')) {
    execFileSync('node', ['scripts/gen-docs.mjs', '--out', tmp], { stdio: 'inherit' });
    for (const d of ['completions', 'man']) problems.push(...compare(d, join(tmp, d), d));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(
    `generated files are stale (${problems.length}); run 'npm run gen' and 'npm run gen:docs' and commit the result`,
  );
  process.exit(1);
}
console.log(`generated files are up to date (${relative('.', 'src/gen')}, completions, man)`);
