// Writes V8's code cache beside each bundle file (src/cli/code-cache.ts), run by
// scripts/bundle.mjs: the common commands run once, in this process, against an embedded
// server in a temporary directory, with the bundle compiled through the recording hook; what
// V8 compiled for each file is then saved. The caches are only as good as this Node: another
// Node version rejects them and compiles as before.
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureIO } from '../dist/cli/docs/capture-io.js';
import { startServer } from '../dist/server/index.js';

const bundle = join(import.meta.dirname, '..', 'dist', 'bundle');
const require = createRequire(import.meta.url);

const dir = await mkdtemp(join(tmpdir(), 'access-code-cache-'));
const server = await startServer({ dataDir: dir, listen: '127.0.0.1:0' });
try {
  const { installCodeCache } = require(join(bundle, 'code-cache.cjs'));
  const recording = installCodeCache(bundle, true);
  const { main } = require(join(bundle, 'access.cjs'));

  /** Runs `access args` as alice, in this process; returns stdout, throws on failure. */
  async function access(args) {
    const env = { HOME: dir, ACCESS_AUTH_SERVER: server.addr, ACCESS_IDENTITY: server.identityPath('alice') };
    const io = captureIO({ isTTY: false, columns: 80 }, env);
    const code = await main(args, io);
    if (code !== 0) throw new Error(`access ${args.join(' ')} exited ${code}: ${io.stderrText().trim()}`);
    return io.stdoutText();
  }

  const created = JSON.parse(
    await access([
      'request',
      'create',
      '--roles',
      'auditor',
      '--reason',
      'code cache',
      '--nowait',
      '--format',
      'json',
    ]),
  );
  for (const args of [
    ['request', 'ls', '--format', 'json'],
    ['request', 'ls'],
    ['request', 'show', created.id],
    ['request', 'show', created.id, '--format', 'json'],
    ['request', 'caps'],
    ['--version'],
    ['--debug', '--help'],
  ]) {
    await access(args);
  }
  recording.save();
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
