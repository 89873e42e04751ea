// Controllable generation inside a sampling job: builds the inputs score_sde's controllable
// samplers need from the run's data set (references and masks for inpainting, grey images for
// colorisation, the exact classifier of toy-gmm for class-conditional sampling).
import { Batcher } from '../../engine/data/batcher'
import { createToy } from '../../engine/toy'
import fs from 'node:fs'
import { decodeNoiseClassifier } from '../../engine/classifier'
import { cfgScore, conditionalScore, gmmClassifier, runColorize, runConditional, runInpaint } from '../../engine/samplers/controllable'
import type { ScoreModel } from '../../engine/nets/types'
import type { SampleResult, SamplerOptions } from '../../engine/samplers'
import type { ScoreFn, Sde } from '../../engine/sde/types'
import { base64Bytes, type Condition, type TrainConfig } from '../../shared/contract'
import { DatasetStore } from '../datasets/store'

type Runtime = Pick<SamplerOptions, 'shape' | 'onStep' | 'signal'>

export interface Conditioned {
  /** Runs the condition's own sampler; absent when `score` replaces the score for the request's sampler. */
  run?(scoreFn: ScoreFn, sde: Sde, settings: Record<string, unknown>, runtime: Runtime): Promise<SampleResult>
  /** A guided score any sampler takes (classifier-free or classifier guidance). */
  score?: ScoreFn
  /** Frees what the condition holds (a guidance classifier's weights). */
  dispose?(): void
  /** What the condition shows (masked or grey references), in the data's scaling; null for classes. */
  reference: Float32Array | null
}

/** 1 where the pixel is known, 0 where the sampler fills it in: a preset region, or a drawn mask of the image's size. */
export function maskFor(kind: Extract<Condition, { kind: 'inpaint' }>['mask'], h: number, w: number, c: number): Float32Array {
  const m = new Float32Array(h * w * c)
  if (typeof kind !== 'string') {
    if (kind.width !== w || kind.height !== h) throw new Error(`The drawn mask is ${kind.width}×${kind.height}, but this run's images are ${w}×${h}.`)
    const bits = base64Bytes(kind.data)!
    for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) m[p * c + k] = bits[p]!
    return m
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const hidden =
        kind === 'left' ? x < w / 2
        : kind === 'right' ? x >= w / 2
        : kind === 'top' ? y < h / 2
        : kind === 'bottom' ? y >= h / 2
        : kind === 'center' ? Math.abs(x - (w - 1) / 2) < w / 4 && Math.abs(y - (h - 1) / 2) < h / 4
        : (Math.floor(x / 4) + Math.floor(y / 4)) % 2 === 0
      for (let k = 0; k < c; k++) m[(y * w + x) * c + k] = hidden ? 0 : 1
    }
  }
  return m
}

/** The sampled run's network and score, and where its guidance classifier would be. */
export interface ConditionedModel {
  model: ScoreModel
  scoreFn: ScoreFn
  guidanceClassifier: string
}

export async function conditioned(condition: Condition, config: TrainConfig, dataDir: string, shape: number[], count: number, seed: number, run: ConditionedModel): Promise<Conditioned> {
  const { model } = run
  if (condition.kind === 'class' && model.classes > 0) {
    if (condition.label >= model.classes) throw new Error(`This run has ${model.classes} classes (0–${model.classes - 1}); there is no class ${condition.label}.`)
    return { reference: null, score: cfgScore(model, condition.label, condition.guidance ?? 1) }
  }
  if (condition.kind === 'class' && fs.existsSync(run.guidanceClassifier)) {
    // Classifier guidance: s(x, t) + w·∇ₓ log p_t(y | x) through the run's own noise-conditional classifier.
    const { classifier } = decodeNoiseClassifier(new Uint8Array(fs.readFileSync(run.guidanceClassifier)), run.guidanceClassifier)
    const classes = classifier.config.classes
    if (condition.label >= classes) {
      classifier.dispose()
      throw new Error(`The guidance classifier has ${classes} classes (0–${classes - 1}); there is no class ${condition.label}.`)
    }
    return { reference: null, score: conditionalScore(run.scoreFn, classifier.classifierFn(), condition.label, condition.scale ?? condition.guidance ?? 1), dispose: () => classifier.dispose() }
  }
  if (condition.kind === 'class') {
    if (config.dataset !== 'toy-gmm') {
      throw new Error(`Sampling one class needs a class-conditional run (train with --conditional, or Class-conditional in the run form) or this run's guidance classifier (score-lab train-classifier --for RUN); this ${config.dataset} run has neither.`)
    }
    const toy = createToy('toy-gmm')
    const k = ((toy.config as { means?: unknown[] }).means ?? []).length
    if (condition.label >= k) throw new Error(`toy-gmm has ${k} classes (0–${k - 1}); there is no class ${condition.label}.`)
    return {
      reference: null,
      run: (scoreFn, sde, settings, runtime) =>
        runConditional(scoreFn, sde, { ...settings, label: condition.label, classifierScale: condition.scale ?? 1 }, { ...runtime, classifier: gmmClassifier(toy, sde) })
    }
  }
  if (shape.length !== 3) throw new Error(`${condition.kind === 'inpaint' ? 'Inpainting' : 'Colorisation'} needs an image run; ${config.dataset} is 2-D points.`)
  const [h, w, c] = shape as [number, number, number]
  if (condition.kind === 'colorize' && c !== 3) throw new Error(`Colorisation needs colour images; ${config.dataset} has ${c} channel${c === 1 ? '' : 's'}.`)
  const set = await new DatasetStore(dataDir).load(config.dataset, condition.split)
  const batcher = new Batcher(set, { batchSize: count, seed, centered: config.centered })
  const images = batcher.fill(batcher.order(0).subarray(0, count))
  const per = h * w * c
  if (condition.kind === 'inpaint') {
    const one = maskFor(condition.mask, h, w, c)
    const mask = new Float32Array(count * per)
    for (let i = 0; i < count; i++) mask.set(one, i * per)
    // The reference as the sampler sees it: hidden pixels shown mid-grey.
    const mid = config.centered ? 0 : 0.5
    const shown = images.map((v, i) => (mask[i] ? v : mid))
    return { reference: shown, run: (scoreFn, sde, settings, runtime) => runInpaint(scoreFn, sde, settings, { ...runtime, reference: images, mask }) }
  }
  const grey = new Float32Array(count * h * w)
  const shown = new Float32Array(count * per)
  for (let p = 0; p < count * h * w; p++) {
    const g = (images[3 * p]! + images[3 * p + 1]! + images[3 * p + 2]!) / 3
    grey[p] = g
    shown[3 * p] = shown[3 * p + 1] = shown[3 * p + 2] = g
  }
  return { reference: shown, run: (scoreFn, sde, settings, runtime) => runColorize(scoreFn, sde, settings, { ...runtime, grey }) }
}
