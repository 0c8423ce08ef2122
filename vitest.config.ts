import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/contract/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Forks, not threads: with isolate off, threads measured no faster here (test/unit 35 s
    // against 36 s wall), and a process keeps its tests' children and signals to itself.
    pool: 'forks',
    // One worker per core. Vitest's default (cores - 1) ran the whole suite in a single
    // worker on a 2-core machine, although much of an e2e file's time is waiting on the
    // server or a bounded timeout. Measured on e2e+server+reliability+webhook under load:
    // 1 worker 119 s, 2 workers 87 s, 3 workers 115 s wall.
    maxWorkers: availableParallelism(),
    // Test files share a worker's module cache instead of each importing grpc-js, the
    // generated protos and the server again: that import was most of the suite's CPU time
    // (run alone, test/unit took 45 s of CPU isolated and 17 s shared). No test mocks
    // modules, stubs globals or changes process.env, so nothing leaks between files.
    isolate: false,
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
