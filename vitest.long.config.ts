// The long acceptance runs (LONG_TESTS in vitest.config.ts), with the suite's other settings.
// Not mergeConfig: it concatenates arrays, and `include` must be exactly these files.
import { defineConfig } from 'vitest/config'
import base, { LONG_TESTS } from './vitest.config'

export default defineConfig({ ...base, test: { ...base.test, include: LONG_TESTS, exclude: ['node_modules/**'] } })
