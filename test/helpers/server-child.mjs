// Runs the embedded server in its own process so tests can kill -9 it.
// Usage: node server-child.mjs <compiled server/index.js> <data dir> [seed file]
// Prints `READY <addr>` on stdout once listening; SIGTERM stops it gracefully.
import { pathToFileURL } from 'node:url';

const [modulePath, dataDir, seedFile] = process.argv.slice(2);
const { startServer } = await import(pathToFileURL(modulePath).href);
const server = await startServer({
  dataDir,
  listen: '127.0.0.1:0',
  seedFile: seedFile || undefined,
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`READY ${server.addr}\n`);
process.on('SIGTERM', () => {
  server.stop({ graceMs: 2000 }).then(() => process.exit(0));
});
