// A quick look at what the model generates while it trains: a short Euler–Maruyama run from a
// fixed seed (so successive previews are comparable), with the live weights. It costs about
// 50 score evaluations on 16 images (1,000 points for 2-D runs) every `previewEvery` steps.
import type { ScoreModel } from '../../engine/nets/types'
import type { Sde } from '../../engine/sde/types'
import { runSampler } from '../../engine/samplers'
import { makeGrid } from '../../engine/images/grid'
import { scatterImage } from '../../engine/images/scatter'
import { encodePng } from '../../engine/images/png'

export const PREVIEW_STEPS = 50

export async function previewPng(model: ScoreModel, sde: Sde, shape: number[], centered: boolean, step: number): Promise<Uint8Array> {
  const points = shape.length === 1
  const count = points ? 1000 : 16
  const result = await runSampler('euler_maruyama', (x, t) => model.score(x, t), sde, { batchSize: count, seed: 0, n: PREVIEW_STEPS }, { shape })
  const data = (await result.samples.data()) as Float32Array
  result.samples.dispose()
  const [h, w, c] = shape as [number, number, number]
  const img = points ? scatterImage(data) : makeGrid(data, [count, h, w, c], { cols: 4, range: centered ? [-1, 1] : [0, 1] })
  return encodePng(img, { preview: true, step, sampler: 'euler_maruyama', steps: PREVIEW_STEPS, seed: 0 })
}
