// Picking the backend by measurement (issue 22): where several backends load, one small training
// step is timed on each and the fastest wins, not the highest ranked; the times are kept per
// machine (keyed by a fingerprint) so later starts and job workers choose the same without
// measuring; a damaged, foreign or other machine's file is measured again, with a note; a forced
// backend measures nothing; and a slow "GPU" (SwiftShader) loses to the CPU kernels it outranks.
import fs from 'node:fs'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { selectBackend } from '../../src/engine/backend/select'
import { nativeKernelsActive, nativeStatus } from '../../src/engine/backend/native-kernels'
import { machineFingerprint, readTimings, TIMINGS_FORMAT } from '../../src/engine/backend/timings-cache'
import { BACKEND_NAMES, type BackendInfo } from '../../src/engine/backend/types'
import { tf } from '../../src/engine/tf'
import { backendTimingsPath, BACKEND_TIMINGS_FILE } from '../../src/lab/data-dir'
import { diagnose } from '../../src/lab/doctor'
import { createDispatch } from '../../src/lab/dispatch'
import { selectJobBackend } from '../../src/lab/worker/job-runtime'
import { procedures } from '../../src/shared/contract'
import { tempDir, testService } from '../helpers/service'
import { ROOT, swiftshaderEnv } from '../helpers/webgpu-child'

const dir = tempDir('score-lab-measure-')
const file = path.join(dir, 'timings.json')
const native = nativeStatus()

/** Unforced selection, whatever SCORE_LAB_BACKEND says in the environment running the suite. */
async function select(timingsFile: string): Promise<BackendInfo> {
  const prev = process.env.SCORE_LAB_BACKEND
  delete process.env.SCORE_LAB_BACKEND
  try {
    return await selectBackend({ timingsFile })
  } finally {
    if (prev !== undefined) process.env.SCORE_LAB_BACKEND = prev
  }
}

const timed = (info: BackendInfo) => info.attempts.filter((a) => a.stepMs !== undefined)
const fastest = (info: BackendInfo) => [...timed(info)].sort((a, b) => a.stepMs! - b.stepMs!)[0]!.name
/** Whether the active tfjs backend and kernel set are the named backend's. */
const activeIs = (name: string) => (name === 'native' ? tf.getBackend() === 'wasm' && nativeKernelsActive() : name === 'wasm' ? tf.getBackend() === 'wasm' && !nativeKernelsActive() : tf.getBackend() === name)

describe.skipIf(!native.available)('backend chosen by measurement (native and wasm both load here)', () => {
  let first: BackendInfo

  it('measures every backend that loads, picks the fastest, and keeps the times under the machine fingerprint', async () => {
    first = await select(file)
    const names = timed(first).map((a) => a.name)
    expect(names).toEqual(expect.arrayContaining(['native', 'wasm']))
    expect(names).not.toContain('cpu') // pure JS only when nothing else loads
    for (const a of timed(first)) expect(a.stepMs).toBeGreaterThan(0)
    expect(first.name).toBe(fastest(first))
    expect(activeIs(first.name)).toBe(true)
    expect(first.forced).toBe(false)
    expect(first.choice).toMatch(new RegExp(`^fastest measured: ${first.name} [\\d.]+ ms vs .*wasm|native`))
    for (const a of timed(first).filter((a) => a.name !== first.name)) expect(a.reason).toMatch(/^slower here: [\d.]+ ms per training step vs /)
    expect(first.timing).toMatchObject({ cached: false, file })
    console.log(`measured here: ${timed(first).map((a) => `${a.name} ${a.stepMs!.toFixed(1)} ms`).join(', ')} → ${first.name}`)

    const kept = JSON.parse(fs.readFileSync(file, 'utf8'))
    expect(kept.format).toBe(TIMINGS_FORMAT)
    const entry = kept.entries[first.timing!.key]
    expect(Object.keys(kept.entries)).toEqual([first.timing!.key])
    expect(entry.fingerprint).toMatchObject({ cores: expect.any(Number), node: process.versions.node, tfjs: tf.version_core })
    expect(entry.fingerprint.cpu).toEqual(expect.any(String))
    expect(entry.fingerprint.nativeBuild).toMatch(/bytes/)
    expect(entry.fingerprint.backends).toEqual(expect.arrayContaining([expect.stringMatching(/^native: CPU \(native /), expect.stringMatching(/^wasm: /)]))
    expect(entry.stepMs.native).toBe(first.attempts.find((a) => a.name === 'native')!.stepMs)

    // The doctor says which was chosen and why, with the times.
    const report = diagnose(first, dir, [])
    expect(report.checks.find((c) => c.name === 'Backend choice')!.detail).toContain(first.choice!)
    expect(report.checks.find((c) => c.name === 'Backend in use')!.detail).toMatch(/training step [\d.]+ ms/)
  })

  it('a second start reads the kept times: same choice, nothing measured, the file untouched', async () => {
    const before = fs.readFileSync(file, 'utf8')
    const mtime = fs.statSync(file).mtimeMs
    const again = await select(file)
    expect(again.name).toBe(first.name)
    expect(again.timing).toMatchObject({ cached: true, key: first.timing!.key, measuredAt: first.timing!.measuredAt })
    expect(again.choice).toMatch(/^fastest measured \(kept from \d{4}-\d\d-\d\d\)/)
    // A new measurement could not reproduce the first one's times to the last bit.
    for (const a of timed(first)) expect(again.attempts.find((b) => b.name === a.name)!.stepMs).toBe(a.stepMs)
    expect(fs.readFileSync(file, 'utf8')).toBe(before)
    expect(fs.statSync(file).mtimeMs).toBe(mtime)
  })

  it('the kept times decide, even against what a measurement would say (so no worker measures again)', async () => {
    // Make the slower backend the kept winner: only a choice read from the file can pick it.
    const kept = JSON.parse(fs.readFileSync(file, 'utf8'))
    const entry = kept.entries[first.timing!.key]
    const slow = first.name === 'native' ? 'wasm' : 'native'
    entry.stepMs = { ...entry.stepMs, [slow]: 1, [first.name]: 1000 }
    fs.writeFileSync(file, JSON.stringify(kept))
    const info = await select(file)
    expect(info.name).toBe(slow)
    expect(activeIs(slow)).toBe(true)
    expect(info.timing!.cached).toBe(true)
    expect(info.choice).toMatch(new RegExp(`: ${slow} 1\\.0 ms vs .*${first.name} 1000 ms`))
  })

  it('times kept for another setup (a new driver, CPU or addon build) are measured again, and both kept', async () => {
    const kept = JSON.parse(fs.readFileSync(file, 'utf8'))
    const other = { ...kept.entries[first.timing!.key], fingerprint: { cpu: 'another machine' } }
    fs.writeFileSync(file, JSON.stringify({ ...kept, entries: { '0123456789abcdef': other } }))
    const info = await select(file)
    expect(info.timing).toMatchObject({ cached: false, key: first.timing!.key })
    expect(info.timing!.note).toMatch(/another setup/)
    expect(info.name).toBe(fastest(info))
    expect(Object.keys(readTimings(file).entries).sort()).toEqual(['0123456789abcdef', first.timing!.key].sort())
    // The key follows what the times depend on, e.g. the GPU adapter behind a backend.
    const a = machineFingerprint([{ name: 'webgpu', device: 'Intel UHD 620 (WebGPU)' }, { name: 'native', device: 'CPU' }])
    const b = machineFingerprint([{ name: 'webgpu', device: 'Intel UHD 620 driver 2 (WebGPU)' }, { name: 'native', device: 'CPU' }])
    expect(a.key).not.toBe(b.key)
  })

  it('a damaged or foreign file is ignored with a note, measured again and rewritten: never fatal', async () => {
    for (const [content, why] of [['{"format": "score-lab-backend-ti', /not valid JSON/], ['{"hello": "world"}', /not a Score Lab backend-timings file/]] as const) {
      fs.writeFileSync(file, content)
      const info = await select(file)
      expect(info.timing).toMatchObject({ cached: false })
      expect(info.timing!.note).toMatch(why)
      expect(info.name).toBe(fastest(info))
      const rewritten = readTimings(file)
      expect(rewritten.note).toBeUndefined()
      expect(Object.keys(rewritten.entries)).toEqual([info.timing!.key])
    }
  })

  it('a forced backend is loaded without measuring anything', async () => {
    const forcedFile = path.join(dir, 'forced.json')
    const info = await selectBackend({ force: 'wasm', timingsFile: forcedFile })
    expect(info).toMatchObject({ name: 'wasm', forced: true })
    expect(info.attempts.map((a) => a.name)).toEqual(['wasm'])
    expect(info.attempts[0]!.stepMs).toBeUndefined()
    expect(info.timing).toBeUndefined()
    expect(info.choice).toMatch(/forced/)
    expect(fs.existsSync(forcedFile)).toBe(false)
  })
})

describe.skipIf(!native.available)('the lab', () => {
  it('keeps the times in its data folder, reports them, shares them with job workers, and "Measure again" forgets them', async () => {
    const saved = { timings: process.env.SCORE_LAB_BACKEND_TIMINGS, backend: process.env.SCORE_LAB_BACKEND }
    delete process.env.SCORE_LAB_BACKEND_TIMINGS // the suite's shared file would be used otherwise
    delete process.env.SCORE_LAB_BACKEND
    const service = testService({ real: true, shell: 'cli' })
    try {
      const call = createDispatch(service.handlers)
      const env = await call('system.info', {})
      if (!env.ok) throw new Error(env.error.message)
      // What crosses to the UI: the contract keeps the choice, the times and the timing.
      const info = procedures['system.info'].output.parse(env.result)
      const kept = path.join(service.dataDir, BACKEND_TIMINGS_FILE)
      expect(info.backend.timing).toMatchObject({ cached: false, file: kept })
      expect(info.backend.choice).toMatch(/^fastest measured: /)
      expect(info.backend.attempts.find((a) => a.name === info.backend.name)!.stepMs).toBeGreaterThan(0)
      expect(Object.keys(readTimings(kept).entries)).toEqual([info.backend.timing!.key])

      // A job's worker reads the same file: the same backend, and the file is not rewritten.
      const before = fs.readFileSync(kept, 'utf8')
      const posted: { type: string; name?: string }[] = []
      await selectJobBackend({ dataDir: service.dataDir }, (m) => posted.push(m))
      expect(posted).toEqual([expect.objectContaining({ type: 'backend', name: info.backend.name })])
      expect(fs.readFileSync(kept, 'utf8')).toBe(before)

      const forget = await call('system.remeasureBackends', {})
      if (!forget.ok) throw new Error(forget.error.message)
      expect(forget.result).toMatchObject({ forgotten: true, file: kept })
      expect(readTimings(kept).entries).toEqual({})
      const again = await call('system.remeasureBackends', {})
      expect(again.ok && again.result).toMatchObject({ forgotten: false })
    } finally {
      await service.close()
      for (const [k, v] of [['SCORE_LAB_BACKEND_TIMINGS', saved.timings], ['SCORE_LAB_BACKEND', saved.backend]] as const) if (v !== undefined) process.env[k] = v
    }
  })
})

describe('where the lab keeps the times', () => {
  it('in the data folder, unless SCORE_LAB_BACKEND_TIMINGS names one file for all', () => {
    expect(backendTimingsPath('/data/lab', {})).toBe(path.join('/data/lab', BACKEND_TIMINGS_FILE))
    expect(backendTimingsPath('/data/lab', { SCORE_LAB_BACKEND_TIMINGS: '/tmp/t.json' })).toBe('/tmp/t.json')
  })
})

// A child process: Dawn reads the Vulkan driver (SwiftShader) only at process start.
const swiftshader = swiftshaderEnv()
describe.skipIf(!swiftshader)('a slow GPU does not win by rank', () => {
  it('SwiftShader WebGPU, allowed and measured, loses to the faster CPU backend it outranks', () => {
    const timingsFile = path.join(dir, 'swiftshader.json')
    const code = `
import { selectBackend } from './src/engine/backend/select.ts'
const info = await selectBackend({ allowSoftwareWebgpu: true, timingsFile: ${JSON.stringify(timingsFile)} })
console.log('RESULT ' + JSON.stringify(info))
process.exit(0)
`
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      env: { ...process.env, ...swiftshader, SCORE_LAB_BACKEND: '' },
      encoding: 'utf8',
      timeout: 300_000
    })
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '))
    if (!line) throw new Error(`child exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}`)
    const info = JSON.parse(line.slice(7)) as BackendInfo
    const gpu = info.attempts.find((a) => a.name === 'webgpu')!
    expect(gpu.ok, `webgpu on SwiftShader: ${gpu.reason}`).toBe(true)
    expect(gpu.stepMs).toBeGreaterThan(0)
    const winner = info.attempts.find((a) => a.name === info.name)!
    console.log(`SwiftShader webgpu ${gpu.stepMs!.toFixed(0)} ms vs ${info.name} ${winner.stepMs!.toFixed(1)} ms per step; choice: ${info.choice}`)
    expect(info.name).toBe(fastest(info))
    expect(info.name).not.toBe('webgpu')
    expect(BACKEND_NAMES.indexOf('webgpu')).toBeLessThan(BACKEND_NAMES.indexOf(info.name)) // it did outrank the winner
    expect(gpu.stepMs!).toBeGreaterThan(winner.stepMs!)
    expect(gpu.reason).toMatch(/^slower here/)
    const kept = readTimings(timingsFile).entries[info.timing!.key]!
    expect(kept.stepMs.webgpu).toBe(gpu.stepMs)
    // Past the deadline (10 s at least) the step is not waited for: said so, as a lower bound.
    if (kept.unfinished?.webgpu) expect(gpu.reason).toMatch(/^slower here: over \d+ ms per training step/)
    else expect(gpu.stepMs!).toBeLessThan(Math.max(10_000, 50 * winner.stepMs!))
  }, 600_000)
})
