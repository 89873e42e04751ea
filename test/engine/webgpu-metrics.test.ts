// The quality metrics on the WebGPU backend, where a synchronous read is impossible (tfjs-webgpu's
// dataSync needs an OffscreenCanvas, which Node lacks): a tiny feature net trains 3 steps, embeds
// 8 images and is saved (encodeFeatureNet); gramBlocks, KID and precision/recall run on small
// matrices. Each is compared with the same on cpu.
//
// One child process on the machine's adapter, else SwiftShader (helpers/webgpu-child.ts).
import { describe, expect, test } from 'vitest'
import { runOnWebgpu, WEBGPU_CHILD_PRELUDE } from '../helpers/webgpu-child'

const CHILD =
  WEBGPU_CHILD_PRELUDE +
  `
import { Rng } from './src/engine/rng.ts'
import { trainFeatureNet, embed, encodeFeatureNet, decodeFeatureNet, kernelInceptionDistance, precisionRecall } from './src/engine/metrics/index.ts'
import { gramBlocks } from './src/engine/metrics/gram.ts'
const out = { device: backendInfo.device }

const rng = new Rng(3)
const images = { data: Float32Array.from({ length: 16 * 8 * 8 }, () => rng.float()), shape: [16, 8, 8, 1], range: 'unit' }
const labels = Uint8Array.from({ length: 16 }, (_, i) => i % 4)
const eight = { ...images, data: images.data.subarray(0, 8 * 64), shape: [8, 8, 8, 1] }
const D = 6
const a = Float32Array.from({ length: 10 * D }, () => rng.normal())
const b = Float32Array.from({ length: 7 * D }, () => rng.normal())

async function metrics(backend) {
  await tf.setBackend(backend)
  const losses = []
  const { net } = await trainFeatureNet(images, labels, { steps: 3, batchSize: 8, seed: 1, net: { classes: 4, widths: [4, 8, 8], featureDim: 16 }, onProgress: (p) => losses.push(p.loss) })
  // The premise: a weight the steps wrote lives on the device, where a synchronous read fails.
  let syncRead = 'ok'
  try { net.params.values().next().value.dataSync() } catch (e) { syncRead = String(e.message ?? e) }
  const { features, probs } = await embed(net, eight, { batchSize: 5 })
  const saved = decodeFeatureNet(await encodeFeatureNet(net, { steps: 3 }))
  const weights = (await Promise.all([...saved.net.params.values()].map((v) => v.data()))).flatMap((d) => Array.from(d))
  saved.net.dispose()
  net.dispose()
  const gram = new Array(10 * 7).fill(NaN)
  await gramBlocks(a, b, D, (start, rows, g) => g.forEach((v, i) => (gram[start * 7 + i] = v)), 4)
  const kid = await kernelInceptionDistance(a, b, D, { subsetSize: 5, subsets: 2, seed: 1 })
  const pr = await precisionRecall(a, b, D, { k: 2, blockRows: 3 })
  return { syncRead, losses, features: Array.from(features), probs: Array.from(probs), meta: saved.meta, weights, gram, kid: kid.mean, precision: pr.precision, recall: pr.recall }
}
out.webgpu = await metrics('webgpu')
out.cpu = await metrics('cpu')
console.log('RESULT ' + JSON.stringify(out))
process.exit(0)
`

interface Metrics {
  syncRead: string
  losses: number[]
  features: number[]
  probs: number[]
  meta: Record<string, number>
  weights: number[]
  gram: number[]
  kid: number
  precision: number
  recall: number
}
interface ChildResult {
  device: string
  webgpu: Metrics
  cpu: Metrics
}

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-3)

describe('quality metrics on webgpu with no synchronous read', () => {
  test('feature-net training, embed, encodeFeatureNet, gramBlocks, KID and precision/recall match cpu', (ctx) => {
    const run = runOnWebgpu<ChildResult>(CHILD)
    if (!run.ok) {
      console.log(`SKIPPED webgpu metrics test: ${run.why}`)
      ctx.skip(run.why)
      return
    }
    const { device, webgpu: g, cpu: c } = run.value
    console.log(`[webgpu-metrics] ${device}: losses ${g.losses.map((v) => v.toFixed(5))} (cpu ${c.losses.map((v) => v.toFixed(5))})`)
    expect(g.syncRead).not.toBe('ok')
    expect(c.syncRead).toBe('ok')
    expect(g.meta).toEqual({ steps: 3 })
    expect(g.losses).toHaveLength(3)
    expect(g.features).toHaveLength(8 * 16)
    expect(g.probs).toHaveLength(8 * 4)
    expect(g.gram.every(Number.isFinite)).toBe(true)
    // The same maths in another summation order (float32).
    for (const k of ['losses', 'features', 'probs', 'weights', 'gram'] as const) {
      expect(g[k]).toHaveLength(c[k].length)
      g[k].forEach((v, i) => expect(close(v, c[k][i]!, 1e-4), `${k}[${i}]: ${v} vs ${c[k][i]}`).toBe(true))
    }
    expect(close(g.kid, c.kid, 1e-4), `kid: ${g.kid} vs ${c.kid}`).toBe(true)
    expect([g.precision, g.recall]).toEqual([c.precision, c.recall])
  }, 120_000)
})
