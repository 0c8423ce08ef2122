/**
 * The start-up guard (issue 12): what the published bundle loads for a command. A preloaded
 * script records every module the spawned `access` process loaded (the bundle is CommonJS:
 * require's cache names them all as it exits); esbuild's metafile (dist/bundle-meta.json)
 * names the sources inside each bundle file. A connecting command must not load the X.509
 * library (nor its asn1/tsyringe/reflect-metadata stack), yaml or grpc-js (the client speaks
 * gRPC over node:http2 itself); `--help` loads fast-help alone (not the program, commander's
 * Command or any command module), and help the program answers loads the manifest but no
 * command module, connection, tables or colours. Module loading was where the time went, so
 * this keeps the gain from silently regressing.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPendingAs, ROOT, runAccess, startTestServer, type TestServer } from '../helpers/e2e.js';

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

/** Sources a connecting command must never load. */
const X509_STACK = [
  /node_modules\/@peculiar\//,
  /node_modules\/reflect-metadata\//,
  /node_modules\/tsyringe\//,
  /node_modules\/(asn1js|pvtsutils|pvutils)\//,
  /src\/identity\/x509\.ts$/,
];
const YAML = [/node_modules\/yaml\//];
/** grpc-js and what adapts the generated code to it serve the embedded server only. */
const GRPC_JS = [/node_modules\/@grpc\//, /src\/server\/grpc-definitions\.ts$/];
const CONNECTION = [/src\/client\/connect\.ts$/, /src\/client\/grpc-wire\.ts$/, /src\/gen\//];
/** Generated code of the services request ls does not call (the rule message is in AuthService's watch events). */
const OTHER_SERVICES = [/src\/gen\/teleport\/kube\//, /access_monitoring_rules_service\.ts$/];
const TTY_ONLY = [/node_modules\/chalk\//];
/** The MCP SDK with zod and ajv, and our tools: `access mcp` alone loads them. */
const MCP = [/node_modules\/@modelcontextprotocol\//, /node_modules\/(zod|ajv|ajv-formats)\//, /src\/mcp\//];
/** Command modules: help answers from src/cli/manifest.ts; a command loads only its own. */
const COMMAND_MODULES = [/src\/cli\/commands\//];
/** What no help loads. */
const NOT_FOR_HELP = [
  ...COMMAND_MODULES,
  ...CONNECTION,
  ...GRPC_JS,
  ...X509_STACK,
  ...YAML,
  ...TTY_ONLY,
  ...MCP,
];
/** The program: what `--help` answered from its template never loads. */
const PROGRAM = [/src\/cli\/(main|program|manifest)\.ts$/, /node_modules\/commander\/lib\/command\.js$/];

let server: TestServer;
let dir: string;
let meta: Metafile;
let alice: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'access-startup-'));
  // Preloaded with --require: as the process exits, the files of every module it loaded go
  // to the file the environment names.
  await writeFile(
    join(dir, 'record.cjs'),
    `process.on('exit', () => require('node:fs').writeFileSync(process.env.ACCESS_TEST_LOAD_LOG, Object.keys(require.cache).filter((f) => f !== __filename).join('\\n')));\n`,
  );
  meta = JSON.parse(await readFile(join(ROOT, 'dist', 'bundle-meta.json'), 'utf8')) as Metafile;
  alice = server.env('alice');
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let runs = 0;

/** Runs `access args` as `env` and returns the sources (metafile inputs) it loaded. */
async function sourcesLoaded(args: string[], env: Record<string, string>): Promise<string[]> {
  const log = join(dir, `loads-${runs++}.txt`);
  const r = await runAccess(args, {
    ...env,
    NODE_OPTIONS: `--require ${JSON.stringify(join(dir, 'record.cjs'))}`,
    ACCESS_TEST_LOAD_LOG: log,
  });
  expect(r.stderr).not.toMatch(/^error:/m);
  expect(r.code).toBe(0);
  const files = (await readFile(log, 'utf8')).split('\n');
  const bundleFiles = files.filter((f) => f.startsWith(join(ROOT, 'dist', 'bundle')));
  // Everything but the shim comes from the bundle, never from dist/'s per-file build.
  expect(files.filter((f) => !bundleFiles.includes(f))).toEqual([join(ROOT, 'bin', 'access.cjs')]);
  return bundleFiles.flatMap((f) => {
    const out =
      meta.outputs[
        f
          .slice(ROOT.length + 1)
          .split('\\')
          .join('/')
      ];
    expect(out, `${f} is not in the metafile`).toBeDefined();
    return Object.keys(out.inputs);
  });
}

const matching = (sources: string[], patterns: RegExp[]) =>
  sources.filter((s) => patterns.some((p) => p.test(s)));

describe('start-up: what a command loads from the bundle', () => {
  test('request ls --format json: the connection, but no X.509 library, yaml or grpc-js', async () => {
    await createPendingAs(alice);
    const sources = await sourcesLoaded(['request', 'ls', '--format', 'json'], alice);
    expect(matching(sources, CONNECTION).length).toBeGreaterThan(0);
    expect(
      matching(sources, [...X509_STACK, ...YAML, ...GRPC_JS, ...TTY_ONLY, ...OTHER_SERVICES, ...MCP]),
    ).toEqual([]);
  });

  test('request create --nowait and request show: no X.509 library, yaml or grpc-js', async () => {
    const { id } = await createPendingAs(alice, 'dba', 'startup guard');
    for (const args of [
      ['request', 'create', '--roles', 'dba', '--reason', 'startup guard', '--nowait'],
      ['request', 'show', id],
    ]) {
      expect(matching(await sourcesLoaded(args, alice), [...X509_STACK, ...YAML, ...GRPC_JS])).toEqual([]);
    }
  });

  test('--help, request --help, request ls -h: fast-help and the Help class alone, not the program', async () => {
    for (const args of [['--help'], ['request', '--help'], ['request', 'ls', '-h']]) {
      const sources = await sourcesLoaded(args, { PATH: process.env.PATH ?? '' });
      expect(sources).toContain('src/cli/fast-help.ts');
      expect(sources).toContain('node_modules/commander/lib/help.js');
      expect(matching(sources, [...PROGRAM, ...NOT_FOR_HELP])).toEqual([]);
    }
  });

  test('help the program answers: the manifest, no command module, connection, tables or colours', async () => {
    for (const args of [
      ['--debug', '--help'],
      ['help', 'request'],
    ]) {
      const sources = await sourcesLoaded(args, { PATH: process.env.PATH ?? '' });
      expect(sources).toContain('src/cli/manifest.ts');
      expect(matching(sources, NOT_FOR_HELP)).toEqual([]);
    }
  });

  test('request ls loads its own command module and no other command', async () => {
    const sources = await sourcesLoaded(['request', 'ls', '--format', 'json'], alice);
    const commands = matching(sources, COMMAND_MODULES);
    expect(commands).toContain('src/cli/commands/request-ls.ts');
    expect(
      commands.filter((s) => /\/(exec|sign-helper|server-start|rule-\w+|webhook-\w+)\.ts$/.test(s)),
    ).toEqual([]);
  });

  test('the MCP SDK, zod and ajv load only to serve MCP: not for status or mcp --print-config', async () => {
    for (const args of [
      ['status', '--format', 'json'],
      ['mcp', '--print-config'],
    ]) {
      expect(matching(await sourcesLoaded(args, alice), [...MCP, ...YAML, ...GRPC_JS])).toEqual([]);
    }
    // Serving (stdin at its end at once: the server starts and stops) loads them from the bundle.
    const served = await sourcesLoaded(['mcp'], alice);
    expect(served).toContain('src/mcp/serve.ts');
    expect(matching(served, [/node_modules\/@modelcontextprotocol\/sdk\//]).length).toBeGreaterThan(0);
  });
});
