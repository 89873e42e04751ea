// The long acceptance runs (LONG_TESTS in vitest.config.ts), with the suite's other settings.
import { defineConfig, mergeConfig } from 'vitest/config'
import base, { LONG_TESTS } from './vitest.config'

export default mergeConfig(base, defineConfig({ test: { include: LONG_TESTS, exclude: ['node_modules/**'] } }))
