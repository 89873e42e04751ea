import { defineConfig } from 'vitest/config'
import { TEST_BACKEND_TIMINGS } from './test/helpers/backend-timings'

// UI tests: Playwright drives Debian's Chromium against browser mode with the real backend.
// One file at a time: each starts its own server and browser, and the machine has 2 cores.
export default defineConfig({
  test: {
    include: ['test/ui/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    // Measure the backends once for the suite, not once per temporary data folder.
    env: { SCORE_LAB_BACKEND_TIMINGS: TEST_BACKEND_TIMINGS }
  }
})
