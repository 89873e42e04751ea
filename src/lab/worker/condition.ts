// Controllable generation inside a sampling job: builds the inputs score_sde's controllable
// samplers need from the run's data set (references and masks for inpainting, grey images for
// colorisation, the exact classifier of toy-gmm for class-conditional sampling).
import { createToy } from '../../engine/toy'
import fs from 'node:fs'
import { decodeNoiseClassifier, noiseClassifierConfig } from '../../engine/classifier'
import { cfgScore, conditionalScore, gmmClassifier, runColorize, runInpaint } from '../../engine/samplers/controllable'
import type { ScoreModel } from '../../engine/nets/types'
import type { SampleResult, SamplerOptions } from '../../engine/samplers'
import type { ScoreFn, Sde } from '../../engine/sde/types'
import { base64Bytes, type Condition, type TrainConfig } from '../../shared/contract'
import { broughtImages, splitImages } from './source-images'
import { presetMask } from '../../shared/inpaint-masks'
import { RunStore } from '../runs/store'

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
  let bits: Uint8Array
  if (typeof kind === 'string') bits = presetMask(kind, h, w)
  else {
    if (kind.width !== w || kind.height !== h) throw new Error(`The drawn mask is ${kind.width}×${kind.height}, but this run's images are ${w}×${h}.`)
    bits = base64Bytes(kind.data)!
  }
  const m = new Float32Array(h * w * c)
  for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) m[p * c + k] = bits[p]!
  return m
}

/** The sampled run's network and score, its id (whose guidance classifier is used unless the condition names another run's). */
export interface ConditionedModel {
  model: ScoreModel
  scoreFn: ScoreFn
  sde: Sde
  runId: string
}

type ClassCondition = Extract<Condition, { kind: 'class' | 'classes' }>

/** How many classes the condition's guide knows: the conditional model's, the guidance classifier's, or toy-gmm's components. */
export async function guideClasses(condition: ClassCondition, config: TrainConfig, dataDir: string, run: Pick<ConditionedModel, 'model' | 'runId'>): Promise<number> {
  if (run.model.classes > 0) return run.model.classes
  const file = guidanceClassifierFile(condition, config, dataDir, run.runId)
  // The header's architecture only: the network itself is built once, by conditioned().
  if (file) return noiseClassifierConfig(new Uint8Array(fs.readFileSync(file)), file).classes
  return toyGmmClasses(config)
}

/** Sample i's class: one label for the batch, or for 'classes' row by row (perClass samples of class 0, then of class 1, …). */
function labelsOf(condition: ClassCondition, count: number): number | number[] {
  if (condition.kind === 'class') return condition.label
  return Array.from({ length: count }, (_, i) => Math.floor(i / condition.perClass))
}

/**
 * The guidance classifier a class condition uses: `classifierRun`'s (which must share the
 * sampled run's data set, data range and SDE, the space its classifier was trained in) or the
 * sampled run's own; null when there is none.
 */
function guidanceClassifierFile(condition: ClassCondition, config: TrainConfig, dataDir: string, runId: string): string | null {
  const runs = new RunStore(dataDir)
  const from = condition.classifierRun ?? runId
  if (condition.classifierRun && condition.classifierRun !== runId) {
    const other = runs.get(condition.classifierRun).config
    const same = other.dataset === config.dataset && other.centered === config.centered && other.sde.name === config.sde.name && JSON.stringify(other.sde.params) === JSON.stringify(config.sde.params)
    if (!same) {
      throw new Error(`Run ${condition.classifierRun}'s guidance classifier was trained on ${other.dataset} under ${other.sde.name} ${JSON.stringify(other.sde.params)}${other.centered ? ' (centred)' : ''}; this run is ${config.dataset} under ${config.sde.name} ${JSON.stringify(config.sde.params)}${config.centered ? ' (centred)' : ''}. Guide with a classifier trained on the same data and SDE.`)
    }
  }
  const file = runs.paths(from).guidanceClassifier
  if (fs.existsSync(file)) return file
  if (condition.classifierRun) throw new Error(`Run ${condition.classifierRun} has no guidance classifier yet; train one with score-lab train-classifier --for ${condition.classifierRun}.`)
  return null
}

function toyGmmClasses(config: TrainConfig): number {
  if (config.dataset !== 'toy-gmm') {
    throw new Error(`Sampling by class needs a class-conditional run (train with --conditional, or Class-conditional in the run form) or a guidance classifier (score-lab train-classifier --for RUN); this ${config.dataset} run has neither.`)
  }
  return ((createToy('toy-gmm').config as { means?: unknown[] }).means ?? []).length
}

async function classConditioned(condition: ClassCondition, config: TrainConfig, dataDir: string, count: number, run: ConditionedModel): Promise<Conditioned> {
  const { model } = run
  const weight = condition.scale ?? condition.guidance ?? 1
  const labels = labelsOf(condition, count)
  const top = typeof labels === 'number' ? labels : Math.max(...labels)
  const tooMany = (who: string, k: number) => new Error(`${who} has ${k} classes (0–${k - 1}); there is no class ${top}.`)
  if (model.classes > 0) {
    if (condition.classifierRun) throw new Error('This run is class-conditional: it samples a class by classifier-free guidance, with no classifier to name.')
    if (top >= model.classes) throw tooMany('This run', model.classes)
    return { reference: null, score: cfgScore(model, labels, condition.guidance ?? 1) }
  }
  const file = guidanceClassifierFile(condition, config, dataDir, run.runId)
  if (file) {
    // Classifier guidance: s(x, t) + w·∇ₓ log p_t(y | x) through a noise-conditional classifier.
    const { classifier } = decodeNoiseClassifier(new Uint8Array(fs.readFileSync(file)), file)
    const classes = classifier.config.classes
    if (top >= classes) {
      classifier.dispose()
      throw tooMany('The guidance classifier', classes)
    }
    return { reference: null, score: conditionalScore(run.scoreFn, classifier.classifierFn(), labels, weight), dispose: () => classifier.dispose() }
  }
  // toy-gmm: the mixture's exact noise-conditional classifier, so w = 1 samples the class exactly.
  const k = toyGmmClasses(config)
  if (top >= k) throw tooMany('toy-gmm', k)
  return { reference: null, score: conditionalScore(run.scoreFn, gmmClassifier(createToy('toy-gmm'), run.sde), labels, weight) }
}

export async function conditioned(condition: Condition, config: TrainConfig, dataDir: string, shape: number[], count: number, seed: number, run: ConditionedModel): Promise<Conditioned> {
  if (condition.kind === 'class' || condition.kind === 'classes') return classConditioned(condition, config, dataDir, count, run)
  if (shape.length !== 3) throw new Error(`${condition.kind === 'inpaint' ? 'Inpainting' : 'Colorisation'} needs an image run; ${config.dataset} is 2-D points.`)
  const [h, w, c] = shape as [number, number, number]
  if (condition.kind === 'colorize' && c !== 3) throw new Error(`Colorisation needs colour images; ${config.dataset} has ${c} channel${c === 1 ? '' : 's'}.`)
  const start = condition.start ?? 0
  const images = condition.image ? broughtImages(condition.image, [h, w, c], count, config.centered) : await splitImages(dataDir, config, condition.split, Int32Array.from({ length: count }, (_, i) => start + i), seed)
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
