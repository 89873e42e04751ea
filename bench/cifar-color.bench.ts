// Does the colour model train? A short run of `scorenet_color` (the cifar10-color preset:
// data in [−1, 1], VP SDE, mean reduction, score_sde's optimiser without the long warm-up) on
// CIFAR-10-shaped 32×32×3 images, recording the loss of the untrained model and after N steps.
// Real CIFAR-10 cannot be downloaded here, so the images are smooth random colour fields
// (low-frequency, like natural images): a check that the architecture and scaling learn, not a
// CIFAR-10 result. `npm run bench -- --only cifar-color [--steps N]`.
import type { BenchContext } from './context'
import { tf } from '../src/engine/tf'
import { selectBackend } from '../src/engine/backend/select'
import { createModel } from '../src/engine/nets'
import { createSde } from '../src/engine/sde'
import { Trainer } from '../src/engine/train'
import { Rng } from '../src/engine/rng'

/** Smooth colour images in [−1, 1]: a few random 2-D cosines per channel. */
function smoothImages(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n * 32 * 32 * 3)
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const waves = Array.from({ length: 3 }, () => ({ fx: rng.float() * 3, fy: rng.float() * 3, ph: rng.float() * 6.28, a: 0.3 * rng.float() }))
      const base = rng.float() - 0.5
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          let v = base
          for (const w of waves) v += w.a * Math.cos((w.fx * x + w.fy * y) / 5 + w.ph)
          out[((i * 32 + y) * 32 + x) * 3 + c] = Math.max(-1, Math.min(1, v))
        }
      }
    }
  }
  return out
}

export async function run(ctx: BenchContext): Promise<void> {
  const steps = Number(ctx.args.steps ?? (ctx.quick ? 20 : 60))
  const batch = 8
  const backend = await selectBackend()
  const sde = createSde({ name: 'vpsde' })
  const model = createModel('scorenet_color', { shape: [32, 32, 3], sde, seed: 0 })
  const trainer = new Trainer({ model, sde, config: { lr: 2e-4, batchSize: batch, reduction: 'mean', gradClip: 1, seed: 0 } })
  const rng = new Rng(1)
  const losses: number[] = []
  const t0 = performance.now()
  for (let s = 0; s < steps; s++) {
    const x = tf.tensor4d(smoothImages(batch, rng), [batch, 32, 32, 3])
    trainer.step(x)
    x.dispose()
    // Steps only enqueue; their losses are read every 10 steps, in one read.
    if ((s + 1) % 10 === 0 || s === steps - 1) {
      losses.push(...(await trainer.readPending()).map((m) => m.loss))
      ctx.log(`step ${s + 1}: loss ${losses.at(-1)!.toFixed(4)}`)
    }
  }
  const seconds = (performance.now() - t0) / 1000
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const first = mean(losses.slice(0, 5))
  const last = mean(losses.slice(-5))
  ctx.record('backend', backend.name)
  ctx.record('steps', steps)
  ctx.record('lossFirst5', first)
  ctx.record('lossLast5', last)
  ctx.record('secondsPerStep', seconds / steps)
  ctx.markdown(
    `scorenet_color (${model.numParams().toLocaleString('en')} parameters), VP SDE, batch ${batch}, lr 2e-4, mean reduction, ` +
      `${steps} steps on ${backend.name}: mean loss of the first 5 steps ${first.toFixed(4)} → last 5 ${last.toFixed(4)} ` +
      `(${((1 - last / first) * 100).toFixed(0)}% lower; ${(seconds / steps).toFixed(2)} s/step). Synthetic smooth colour images, not CIFAR-10.`
  )
  trainer.dispose()
  model.dispose()
}
