import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'
import { TEST_BACKEND_TIMINGS } from './test/helpers/backend-timings'

/**
 * Acceptance runs that train real models for minutes (measured in CI: the FashionMNIST class-rate
 * run alone took 4.6 of CI's 22 minutes). They check quality, not behaviour, so they run with the
 * benchmarks (vitest.long.config.ts: `npm run test:long`, or `npm run bench -- --only long-tests`,
 * which writes their figures to bench/results/), keeping `npm test` under 20 minutes.
 */
export const LONG_TESTS = ['test/lab/fashion-class-rate.test.ts']

/**
 * Files that take minutes (measured in CI), started first: a clean clone has no timing cache, so
 * Vitest would start the largest files first and a long small file last, leaving one of the two
 * workers idle for its whole run at the end.
 */
const LONGEST_FIRST = [
  'test/bench/gpu-bundle.test.ts',
  'test/foundation/backend-measure.test.ts',
  'test/engine/webgpu-train-e2e.test.ts',
  'test/engine/webgpu-counters.test.ts',
  'test/lab/guidance-classifier.test.ts', 'test/lab/toy-quality.test.ts', 'test/lab/controllable-sources.test.ts']

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(name))
      return i < 0 ? LONGEST_FIRST.length : i
    }
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f)
  }
}

// Unit and integration tests run in plain Node (no Electron). The UI tests use
// Playwright through scripts/ui-tests.mjs, not Vitest.
export default defineConfig({
  // Renderer libraries (pure functions) are unit-tested here too; they import the contract as @shared.
  resolve: { alias: { '@shared': fileURLToPath(new URL('./src/shared', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    // The long acceptance runs are not part of npm test (vitest.long.config.ts, `npm run test:long`,
    // and the `long-tests` bench, which records their figures).
    exclude: ['test/ui/**', 'node_modules/**', ...LONG_TESTS],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more parallel files only make each tfjs test slower.
    maxWorkers: 2,
    // Measure the backends once for the suite, not once per temporary data folder.
    env: { SCORE_LAB_BACKEND_TIMINGS: TEST_BACKEND_TIMINGS },
    sequence: { sequencer: LongestFirst }
  }
})
