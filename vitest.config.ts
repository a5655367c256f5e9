import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // A condition polled for in a browser or across processes gets time on a busy 2-core machine.
    expect: { poll: { timeout: 5_000 } },
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
