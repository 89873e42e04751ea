// `node --import ./test/helpers/module-log.mjs …` with SCORE_LAB_MODULE_LOG=FILE: appends every
// module the process loads to FILE, one URL or path a line: ES modules as they resolve (through
// the hooks in module-log-hooks.mjs) and, at exit, every CommonJS module in require's cache (the
// CLI's own .ts files, compiled by bin/ts-require.mjs, and the packages they require).
// Used by test/cli/lazy-load.test.ts to check which commands load TensorFlow.js.
import fs from 'node:fs'
import { createRequire, register } from 'node:module'

const file = process.env.SCORE_LAB_MODULE_LOG
if (file) {
  register('./module-log-hooks.mjs', import.meta.url, { data: { file } })
  const require = createRequire(import.meta.url)
  process.on('exit', () => {
    const cjs = Object.keys(require.cache)
    if (cjs.length) fs.appendFileSync(file, cjs.join('\n') + '\n')
  })
}
