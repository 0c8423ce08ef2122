// Builds the Go programs of the contract tests (test/contract/go/cmd/*) into
// test/contract/go/bin. On a clean machine `go build` first downloads Teleport's API module
// and its dependencies (about 190 MB; minutes). The tests build on demand too; running
// this beforehand (e.g. in CI) keeps that one-off download out of their hook timeouts.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const goDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'contract', 'go');
const env = { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() };

function timed(label, args) {
  const started = Date.now();
  execFileSync('go', args, { cwd: goDir, env, stdio: 'inherit' });
  console.log(`${label}: ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

timed('go build ./cmd/...', ['build', '-o', 'bin/', './cmd/...']);
