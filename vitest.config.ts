import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real libp2p nodes and processes: generous per-test deadlines; tests wait on conditions, not sleeps.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Two cores: keep multi-node files from starving each other.
    maxWorkers: 2,
    setupFiles: ['test/setup.ts']
  }
})
