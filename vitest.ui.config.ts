import { defineConfig } from 'vitest/config'
import { TEST_BACKEND_TIMINGS } from './test/helpers/backend-timings'

// UI tests: Playwright drives Debian's Chromium against browser mode with the real backend.
// Two files at a time: each starts its own server (port 0), data folder and browser, and much of
// a UI test is waiting (for a job, for the page), which one file at a time left a core idle for.
export default defineConfig({
  test: {
    include: ['test/ui/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    // Measure the backends once for the suite, not once per temporary data folder.
    env: { SCORE_LAB_BACKEND_TIMINGS: TEST_BACKEND_TIMINGS }
  }
})
