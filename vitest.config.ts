import { defineConfig } from 'vitest/config'

// Unit and integration tests run in plain Node (no Electron). The UI tests use
// Playwright through scripts/ui-tests.mjs, not Vitest.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/ui/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more parallel files only make each tfjs test slower.
    maxWorkers: 2
  }
})
