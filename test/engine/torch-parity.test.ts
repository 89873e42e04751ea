// Numerical parity of `scorenet`, loaded through the PyTorch import path, with the tutorial's
// PyTorch model on the same weights and inputs (fixture: test/fixtures/parity/README.md).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { importTorchScoreNet } from '../../src/engine/nets/torch-import'
import type { Sde } from '../../src/engine/sde/types'
import { VeTutorialSde } from '../../src/engine/sde/ve-tutorial'
import { tutorialVe } from './helpers/tutorial-ve'

const DIR = path.join(import.meta.dirname, '..', 'fixtures', 'parity')
const manifest = JSON.parse(readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as { tests: Record<string, { file: string; shape: number[] } | number> }
const weights = new Uint8Array(readFileSync(path.join(DIR, 'weights.safetensors')))
const bin = (key: string) => {
  const { file } = manifest.tests[key] as { file: string }
  const b = readFileSync(path.join(DIR, file))
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
}
const [xs, ts, zs, refScore] = [bin('x'), bin('t'), bin('z'), bin('score')]
const refLoss = manifest.tests.loss as number
const B = ts.length

function compare(out: Float32Array, ref: Float32Array, from = 0, to = ref.length) {
  let num = 0
  let den = 0
  let maxAbs = 0
  for (let i = from; i < to; i++) {
    const d = out[i]! - ref[i]!
    num += d * d
    den += ref[i]! * ref[i]!
    maxAbs = Math.max(maxAbs, Math.abs(d))
  }
  return { relL2: Math.sqrt(num / den), maxAbs }
}

/** Score and tutorial loss (sum over pixels, mean over batch; no ½) on the fixed (x, t, z). */
function run(sde: Sde) {
  const { model, metadata } = importTorchScoreNet(weights, { sde, source: 'test/fixtures/parity/weights.safetensors' })
  try {
    const [score, loss] = tf.tidy(() => {
      // NCHW with C = 1 has the same memory order as NHWC.
      const x = tf.tensor4d(xs, [B, 28, 28, 1])
      const z = tf.tensor4d(zs, [B, 28, 28, 1])
      const t = tf.tensor1d(ts)
      const std = tf.reshape(sde.marginalProb(x, t).std, [B, 1, 1, 1])
      const s = model.score(x, t)
      const sPert = model.score(tf.add(x, tf.mul(z, std)), t)
      const l = tf.mean(tf.sum(tf.square(tf.add(tf.mul(sPert, std), z)), [1, 2, 3]))
      return [s, l]
    })
    const out = { score: score!.dataSync() as Float32Array, loss: loss!.dataSync()[0]!, metadata }
    tf.dispose([score!, loss!])
    return out
  } finally {
    model.dispose()
  }
}

const report: string[] = []
afterAll(() => console.log(`parity vs PyTorch (fixture t = ${Array.from(ts).join(', ')}):\n  ${report.join('\n  ')}`))

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`scorenet parity with PyTorch on ${backend}`, () => {
    it('score within rel L2 1e-5 and the tutorial loss within 1e-5 relative (float32 std as in PyTorch)', async () => {
      await selectBackend({ force: backend })
      expect(tf.getBackend()).toBe(backend)
      const { score, loss, metadata } = run(tutorialVe())
      expect(metadata.model).toBe('tutorial-scorenet')
      const all = compare(score, refScore)
      report.push(`${backend}: score rel L2 ${all.relL2.toExponential(3)}, max|diff| ${all.maxAbs.toExponential(3)}; loss ${loss.toFixed(6)} vs torch ${refLoss.toFixed(6)} (rel ${(Math.abs(loss - refLoss) / refLoss).toExponential(2)})`)
      expect(all.relL2).toBeLessThan(1e-5)
      expect(Math.abs(loss - refLoss) / refLoss).toBeLessThan(1e-5)
    })

    it('with the engine\'s vesde_tutorial (exact std via expm1) it matches except where PyTorch\'s own float32 std is off (t = 1e-5)', async () => {
      await selectBackend({ force: backend })
      const { score } = run(new VeTutorialSde())
      const n = 28 * 28
      const late = compare(score, refScore, n) // t = 0.1, 0.5, 1
      const first = compare(score, refScore, 0, n) // t = 1e-5
      report.push(`${backend} with vesde_tutorial: t ≥ 0.1 rel L2 ${late.relL2.toExponential(3)}; t = 1e-5 rel L2 ${first.relL2.toExponential(3)}`)
      expect(late.relL2).toBeLessThan(1e-5)
      // PyTorch computes 25^(2t) − 1 in float32: at t = 1e-5 that cancels (~5e-5 relative in the score here).
      expect(first.relL2).toBeLessThan(1e-4)
    })
  })
}
