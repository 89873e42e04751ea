// One kept backend-timings file for the whole test suite: every test's lab uses a fresh temporary
// data folder, and without this each would measure the backends again (a second or two apiece,
// in the service and in job workers). The vitest configs pass it as SCORE_LAB_BACKEND_TIMINGS.
import os from 'node:os'
import path from 'node:path'

export const TEST_BACKEND_TIMINGS = process.env.SCORE_LAB_BACKEND_TIMINGS || path.join(os.tmpdir(), 'score-lab-test-backend-timings.json')
