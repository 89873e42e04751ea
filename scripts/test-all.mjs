// npm test: type-check, then every test runner (Vitest unit/integration, Playwright UI
// through Vitest); prints one closing line "N passed, N failed" summed over all of them
// and exits non-zero if anything failed. Type-checking counts as one check.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const node = process.execPath
let passed = 0
let failed = 0
let skipped = 0

function run(label, args) {
  console.log(`\n=== ${label} ===`)
  const r = spawnSync(node, args, { cwd: root, stdio: 'inherit' })
  return r.status ?? 1
}

function vitest(label, args) {
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'score-lab-vitest-')), 'report.json')
  const status = run(label, [...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`])
  if (!fs.existsSync(report)) {
    console.log(`${label}: the runner produced no report (exit ${status}); counted as 1 failure`)
    failed += 1
    return
  }
  const r = JSON.parse(fs.readFileSync(report, 'utf8'))
  passed += r.numPassedTests
  failed += r.numFailedTests
  skipped += r.numPendingTests + (r.numTodoTests ?? 0)
  // A file that fails to load has no failed tests but fails the run.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length
  failed += brokenFiles
  if (status !== 0 && r.numFailedTests === 0 && brokenFiles === 0) failed += 1
}

const tsc = path.join(root, 'node_modules/vue-tsc/bin/vue-tsc.js')
const typecheck = run('type-check (vue-tsc)', [tsc, '--noEmit', '-p', 'tsconfig.node.json']) || run('type-check renderer (vue-tsc)', [tsc, '--noEmit', '-p', 'tsconfig.web.json'])
if (typecheck === 0) passed += 1
else failed += 1

const vitestBin = path.join(root, 'node_modules/vitest/vitest.mjs')
vitest('unit and integration tests (Vitest)', [vitestBin, 'run'])
const build = run('build (electron-vite)', [path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'])
if (build === 0) {
  passed += 1
  vitest('UI tests (Playwright + Chromium, Electron smoke)', [vitestBin, 'run', '-c', 'vitest.ui.config.ts'])
} else {
  failed += 1
  console.log('build failed: UI tests not run')
}

console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed === 0 ? 0 : 1)
