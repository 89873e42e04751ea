import { describe, expect, it } from 'vitest'
import { explain, parseBackendName, selectBackend } from '../../src/engine/backend/select'
import { BACKEND_NAMES } from '../../src/engine/backend/types'
import { defaultDataDir } from '../../src/lab/data-dir'
import { diagnose } from '../../src/lab/doctor'
import { FAKE_BACKEND } from '../helpers/service'

describe('backend selection', () => {
  it('loads a forced backend and says it was forced', async () => {
    const info = await selectBackend({ force: 'cpu' })
    expect(info).toMatchObject({ name: 'cpu', forced: true })
    expect(info.device).toMatch(/CPU/)
  })

  it('tries the backends in rank order and records why each one not in use is not', async () => {
    const prev = process.env.SCORE_LAB_BACKEND
    delete process.env.SCORE_LAB_BACKEND
    try {
      // The suite's shared timings file (vitest config): measured at most once for all tests.
      const info = await selectBackend()
      expect(info.forced).toBe(false)
      const names = info.attempts.map((a) => a.name)
      expect(names[0]).toBe('tensorflow')
      expect(names).toEqual(BACKEND_NAMES.filter((n) => names.includes(n))) // rank order
      expect(names).toContain(info.name)
      expect(info.choice && info.choice.length).toBeGreaterThan(10)
      for (const a of info.attempts.filter((a) => a.name !== info.name)) {
        expect(a.reason && a.reason.length).toBeGreaterThan(10)
      }
    } finally {
      if (prev !== undefined) process.env.SCORE_LAB_BACKEND = prev
    }
  })

  it('a forced backend that cannot load is an error naming the reason', async () => {
    await expect(selectBackend({ force: 'tensorflow' })).rejects.toThrow(/tensorflow: .*not installed/)
  })

  it('rejects unknown backend names', () => {
    expect(() => parseBackendName('cuda')).toThrow(/Unknown backend "cuda".*tensorflow, webgpu, native, wasm, cpu/)
    expect(parseBackendName(undefined)).toBeUndefined()
  })

  it('explains the common CUDA failures with the exact fix', () => {
    const cudart = explain('tensorflow', new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory'))
    expect(cudart.reason).toMatch(/libcudart\.so\.11\.0.*CUDA 11\.2 and cuDNN 8\.1/)
    expect(cudart.fix).toMatch(/LD_LIBRARY_PATH/)
    const cudnn = explain('tensorflow', new Error('Could not load dynamic library libcudnn.so.8'))
    expect(cudnn.reason).toMatch(/libcudnn\.so\.8/)
    expect(explain('tensorflow', new Error("Cannot find module '@tensorflow/tfjs-node-gpu'")).fix).toMatch(/npm install @tensorflow\/tfjs-node-gpu/)
  })
})

describe('doctor', () => {
  it('flags missing CUDA libraries with a fix, and passes when they are present', () => {
    const missing = diagnose(FAKE_BACKEND, '/tmp', ['libc.so.6'])
    const cuda = missing.checks.find((c) => c.name.startsWith('CUDA'))!
    expect(cuda.ok).toBe(false)
    expect(cuda.fix).toMatch(/CUDA 11\.2/)
    const present = diagnose(FAKE_BACKEND, '/tmp', ['libcudart.so.11.0', 'libcudnn.so.8', 'libvulkan.so.1'])
    expect(present.checks.filter((c) => /CUDA|cuDNN|Vulkan/.test(c.name)).every((c) => c.ok)).toBe(true)
  })

  it('fails when the data folder is not writable', () => {
    expect(diagnose(FAKE_BACKEND, '/nonexistent/score-lab', []).ok).toBe(false)
  })
})

describe('data folder', () => {
  it('honours SCORE_LAB_HOME and otherwise uses the platform folder', () => {
    expect(defaultDataDir({ SCORE_LAB_HOME: '/data/lab' }, 'linux')).toBe('/data/lab')
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/cfg' }, 'linux')).toBe('/cfg/score-lab')
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/score-lab$/)
  })
})
