import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Unit and integration tests run in plain Node (no Electron). The UI tests use
// Playwright through scripts/ui-tests.mjs, not Vitest.
export default defineConfig({
  // Renderer libraries (pure functions) are unit-tested here too; they import the contract as @shared.
  resolve: { alias: { '@shared': fileURLToPath(new URL('./src/shared', import.meta.url)) } },
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
