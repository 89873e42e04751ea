// The learned score field of a 2-D run on a grid, beside the true one where the data set's
// density is known in closed form (toy-gmm), with fresh samples of the data set: what the UI
// draws as arrows over faint dots of the data.
import path from 'node:path'
import { tf } from '../engine/tf'
import { createToy } from '../engine/toy'
import type { AnalyticToyDataset } from '../engine/toy'
import { Rng } from '../engine/rng'
import { HandlerError } from './dispatch'
import type { RunStore } from './runs/store'
import { loadRunModel, type LoadedModel } from './worker/model-loader'

export interface ScoreField {
  t: number
  sigma: number
  n: number
  extent: number
  /** Grid points, row-major [n·n, 2]. */
  points: number[]
  model: number[]
  truth: number[] | null
  checkpoint: string
  step: number
  /** Fresh samples of the data set, [DATA_POINTS, 2] row-major. */
  data: number[]
}

/** Data samples drawn under the arrows: enough to show the shape, few enough to stay faint. */
export const DATA_POINTS = 1500
/** Their seed: fixed, so the dots stay put while the t slider or the grid changes. */
const DATA_SEED = 20_240_611

function isAnalytic(toy: unknown): toy is AnalyticToyDataset {
  return typeof (toy as AnalyticToyDataset).score === 'function'
}

export function createScoreFieldService(runs: RunStore) {
  // One loaded model per run and checkpoint: the UI moves a t slider, reloading would lag.
  let cache: { key: string; model: LoadedModel } | null = null
  const samples = new Map<string, number[]>()
  const dataOf = (dataset: string) => {
    let d = samples.get(dataset)
    if (!d) samples.set(dataset, (d = Array.from(createToy(dataset).sample(DATA_POINTS, new Rng(DATA_SEED)), (v) => Math.round(v * 1e4) / 1e4)))
    return d
  }

  return async function scoreField(runId: string, t: number, n: number, useEma: boolean): Promise<ScoreField> {
    const run = runs.get(runId)
    if (!run.config.dataset.startsWith('toy-')) throw new HandlerError({ code: 'bad_request', message: 'The score field is drawn for 2-D toy runs only.' })
    const cks = runs.checkpoints(runId)
    if (cks.length === 0) throw new HandlerError({ code: 'conflict', message: `Run ${runId} has no checkpoint yet.` })
    const latest = cks.reduce((a, b) => (b.step > a.step ? b : a))
    const key = `${runId}/${latest.file}/${useEma}`
    if (cache?.key !== key) {
      cache?.model.dispose()
      cache = { key, model: await loadRunModel(runs.checkpointsDir(runId), latest.file, useEma) }
    }
    const { sde, scoreFn } = cache.model
    const extent = 3.5
    const points = new Float32Array(n * n * 2)
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const k = i * n + j
        points[2 * k] = -extent + (2 * extent * (j + 0.5)) / n
        points[2 * k + 1] = extent - (2 * extent * (i + 0.5)) / n
      }
    }
    const scores = tf.tidy(() => scoreFn(tf.tensor2d(points, [n * n, 2]), tf.fill([n * n], t) as tf.Tensor1D))
    let model: Float32Array
    try {
      model = (await scores.data()) as Float32Array // async: the service's backend may be WebGPU, which cannot read synchronously in Node
    } finally {
      scores.dispose()
    }
    const toy = createToy(run.config.dataset)
    const truth = isAnalytic(toy) ? Array.from(toy.score(points, sde, t)) : null
    return {
      t,
      sigma: sde.marginalStdAt(t),
      n,
      extent,
      points: Array.from(points),
      model: Array.from(model),
      truth,
      checkpoint: path.basename(latest.file),
      step: latest.step,
      data: dataOf(run.config.dataset)
    }
  }
}
