// The self-check select.ts runs before using Score Lab's WebGPU kernels: on the adapter it passes
// with the real kernels, and one kernel that computes a wrong answer (as a driver miscompiling a
// shader would) makes the backend fall back to tfjs-webgpu's own kernels, saying why.
//
// One child process on the machine's adapter, else SwiftShader (helpers/webgpu-child.ts).
import { describe, expect, test } from 'vitest'
import { runOnWebgpu } from '../helpers/webgpu-child'

// Not the shared prelude: the kernel is broken before the backend is selected.
const CHILD = `
import { tf } from './src/engine/tf.ts'
import { selectBackend } from './src/engine/backend/select.ts'
import { WEBGPU_KERNELS, webgpuKernelsActive, useWebgpuKernels } from './src/engine/backend/webgpu/kernels.ts'
import { EMA_UPDATE_KERNEL } from './src/engine/ops/optimizer-update.ts'
if (!tf.getGradient('Conv2D')) await import('@tensorflow/tfjs-core/dist/register_all_gradients.js')
const out = {}
try {
  const good = await selectBackend({ force: 'webgpu', allowSoftwareWebgpu: true })
  out.good = { device: good.device, note: good.attempts[0].note ?? null, active: webgpuKernelsActive() }
} catch (e) {
  console.log('RESULT ' + JSON.stringify({ error: String(e.message ?? e) }))
  process.exit(0)
}
useWebgpuKernels(false)
// The EMA update with twice the step: a wrong number, not a crash.
const ema = WEBGPU_KERNELS[EMA_UPDATE_KERNEL]
WEBGPU_KERNELS[EMA_UPDATE_KERNEL] = (args, stock) => ema({ ...args, attrs: { ...args.attrs, oneMinusDecay: 2 * args.attrs.oneMinusDecay } }, stock)
const bad = await selectBackend({ force: 'webgpu', allowSoftwareWebgpu: true })
out.bad = { name: bad.name, device: bad.device, note: bad.attempts[0].note ?? null, active: webgpuKernelsActive() }
console.log('RESULT ' + JSON.stringify(out))
process.exit(0)
`

interface Side {
  device: string
  note: string | null
  active: boolean
  name?: string
}

describe("the WebGPU kernels' self-check", () => {
  test('passes with the real kernels; a wrong kernel falls back to the stock ones with the reason', (ctx) => {
    const run = runOnWebgpu<{ good: Side; bad: Side }>(CHILD)
    if (!run.ok) {
      console.log(`SKIPPED webgpu self-check test: ${run.why}`)
      ctx.skip(run.why)
      return
    }
    const { good, bad } = run.value
    console.log(`[webgpu self-check] good: ${good.device}; broken EMA kernel: ${bad.device} — ${bad.note}`)
    expect(good.device).toContain('Score Lab kernels')
    expect(good.note).toBeNull()
    expect(good.active).toBe(true)
    expect(bad.name).toBe('webgpu') // still the GPU, with tfjs' kernels
    expect(bad.device).toContain('stock tfjs kernels')
    expect(bad.active).toBe(false)
    expect(bad.note).toMatch(/disagree with tfjs-webgpu's on a small training step on this adapter \(relative error [\d.e+-]+ > 0\.0001\)/)
  }, 300_000)
})
