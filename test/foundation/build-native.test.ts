// scripts/build-native.mjs runs on every `npm install`: a build it cannot do must never fail the
// install (exit 0, one line saying why), while `npm run build:native` (--strict) must fail loudly.
// Only the skip path is exercised here; the real build is what every native test relies on.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const script = path.resolve(__dirname, '../../scripts/build-native.mjs')
const run = (args: string[]) =>
  spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { ...process.env, SCORE_LAB_SKIP_NATIVE_BUILD: '1' } })

describe('build-native.mjs', () => {
  it('skips without failing npm install, saying why and what Score Lab falls back to', () => {
    const r = run([])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/native kernels not built: SCORE_LAB_SKIP_NATIVE_BUILD=1\. Score Lab will use the wasm backend/)
  })
  it('fails with --strict (npm run build:native)', () => {
    const r = run(['--strict'])
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/native kernels not built/)
  })
})
