import { defineConfig } from 'vitest/config';

// One test configuration for every package. Packages resolve each other's TypeScript sources
// through the `runnerhub-source` export condition, so tests never need a build first.
export default defineConfig({
  resolve: { conditions: ['runnerhub-source'] },
  ssr: { resolve: { conditions: ['runnerhub-source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests share one machine's NATS, Postgres and Docker; files run one at a time
    // inside a package so a 2-core CI box is not oversubscribed.
    fileParallelism: false,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
