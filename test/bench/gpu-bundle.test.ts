// The GPU bench bundle (issue 22): `npm run bench:gpu-bundle`'s builder makes the archive, which
// is unpacked into an empty folder and run there as on the GPU machine — `bash bundle/run.sh`
// with a PATH that has no Node (only python3), no network, nothing installed — on Chromium's
// SwiftShader adapter with short settings. Checks the archive's size and what the run wrote.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as tar from 'tar'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, SWIFTSHADER_ICD } from '../helpers/webgpu-child'

const LIMIT = 60 * 2 ** 20
const ARCHIVE = 'score-lab-gpu-bench.tar.gz'
const PYTHON = '/usr/bin/python3' // Debian's, with python3-torch where installed

interface Stat {
  median_ms: number
  n: number
}
interface EngineResult {
  ok: boolean
  reason?: string
  device?: string
  cases: Record<string, Stat>
  skipped: Record<string, string>
}
interface Report {
  settings: { node: string; quick: boolean }
  gpu: { name: string; driver: string; source: string }
  engines: Record<string, EngineResult>
  wall_s: number
  error?: string
}

describe('GPU bench bundle', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'score-lab-gpu-bundle-'))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))

  it('builds under 60 MiB and runs from an empty folder with no Node on PATH, on SwiftShader', async (ctx) => {
    if (!existsSync(SWIFTSHADER_ICD)) {
      ctx.skip(`no software WebGPU adapter: ${SWIFTSHADER_ICD} is missing (apt-get install -y chromium provides SwiftShader)`)
    }
    const t0 = Date.now()
    const build = spawnSync(process.execPath, ['scripts/build-gpu-bundle.mjs', '--out', path.join(tmp, 'build')], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 })
    expect(build.status, `build failed:\n${build.stdout}\n${build.stderr}`).toBe(0)
    const archive = path.join(tmp, 'build', ARCHIVE)
    const size = statSync(archive).size
    expect(size).toBeLessThanOrEqual(LIMIT)
    const buildS = (Date.now() - t0) / 1000

    // An empty folder, as on the GPU machine: only the archive's contents.
    const here = path.join(tmp, 'machine')
    mkdirSync(here)
    await tar.x({ file: archive, cwd: here })
    expect(existsSync(path.join(here, 'bundle', 'run.sh'))).toBe(true)

    // PATH without Node: run.sh must use the bundled runtime. python3 only, so PyTorch can run.
    const bin = path.join(tmp, 'bin')
    mkdirSync(bin)
    if (existsSync(PYTHON)) symlinkSync(PYTHON, path.join(bin, 'python3'))
    const env = { PATH: bin, HOME: here, VK_ICD_FILENAMES: SWIFTSHADER_ICD }
    const noNode = spawnSync('/bin/bash', ['-c', 'command -v node'], { env, encoding: 'utf8' })
    expect(noNode.status, `node is on the test's PATH: ${noNode.stdout}`).not.toBe(0)

    // Short settings: on SwiftShader the first training step compiles every shader (≈70 s on
    // the shared 2-core machine), so one timed step, no warm-up, EM @1 first (seconds) so that a
    // loaded machine still gets a WebGPU figure in its share of the budget; webgpu-stock (the
    // same adapter again) is left out.
    const run = spawnSync('/bin/bash', ['bundle/run.sh', '--quick', '--out', 'results', '--engines', 'pytorch,webgpu,native', '--cases', 'em:1,em:2,train:2', '--warmup', '0', '--budget-s', '360'], {
      cwd: here,
      env,
      encoding: 'utf8',
      timeout: 420_000
    })
    const log = `${run.stdout}\n${run.stderr}`.slice(-4000)
    expect(run.status, log).toBe(0)
    const report = JSON.parse(readFileSync(path.join(here, 'results', 'gpu-bench.json'), 'utf8')) as Report
    const md = readFileSync(path.join(here, 'results', 'gpu-bench.md'), 'utf8')
    console.log(`gpu bundle: archive ${(size / 2 ** 20).toFixed(1)} MiB, built in ${buildS.toFixed(0)} s; run ${report.wall_s.toFixed(0)} s\n${md}`)

    expect(report.error, log).toBeUndefined()
    expect(report.settings.node, 'the bundled Node 18 ran the bench').toMatch(/^v18\./)
    expect(report.wall_s).toBeLessThan(8 * 60)
    // WebGPU on SwiftShader, and the device is named as such
    const wg = report.engines.webgpu!
    expect(wg.ok, wg.reason).toBe(true)
    expect(wg.device).toMatch(/swiftshader/i)
    expect(report.gpu.name).toMatch(/swiftshader/i)
    expect(report.gpu.source).toBe('WebGPU adapter')
    const wgTimes = Object.values(wg.cases).map((c) => c.median_ms)
    expect(wgTimes.length, JSON.stringify(wg.skipped)).toBeGreaterThan(0)
    for (const ms of wgTimes) expect(Number.isFinite(ms) && ms > 0).toBe(true)
    // native: every case
    const nat = report.engines.native!
    expect(nat.ok, nat.reason).toBe(true)
    expect(Object.keys(nat.cases).sort()).toEqual(['em@1', 'em@2', 'train@2'])
    for (const c of Object.values(nat.cases)) expect(Number.isFinite(c.median_ms) && c.median_ms > 0 && c.n >= 1).toBe(true)
    // PyTorch ran (here: Debian's torch on the CPU), or says why not
    const pt = report.engines.pytorch!
    if (pt.ok) {
      expect(Object.keys(pt.cases).length).toBeGreaterThan(0)
      for (const c of Object.values(pt.cases)) expect(Number.isFinite(c.median_ms) && c.median_ms > 0).toBe(true)
      expect(md).toMatch(/\| em@1 \| PyTorch \| [\d.,]+ \(n=\d+\) \|/)
    } else {
      expect(pt.reason).toMatch(/\w/)
      expect(md).toContain('PyTorch: skipped —')
    }
    // the Markdown table has a row per engine that ran
    expect(md).toMatch(/\| train@2 \| Score Lab native \| [\d.,]+ \(n=\d+\) \|/)
    expect(md).toMatch(/\| (train@2|em@2|em@1) \| Score Lab WebGPU \| [\d.,]+ \(n=\d+\) \|/)
  }, 900_000)
})
