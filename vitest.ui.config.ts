import { defineConfig } from 'vitest/config'

// UI tests: Playwright drives Debian's Chromium against browser mode with the real backend.
// One file at a time: each starts its own server and browser, and the machine has 2 cores.
export default defineConfig({
  test: {
    include: ['test/ui/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false
  }
})
