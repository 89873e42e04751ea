// An unfinished NoiseClassifier training as one .safetensors file, so a stopped training resumes
// on exactly the stream an uninterrupted one would have drawn. It follows the score checkpoints'
// conventions (checkpoint/checkpoint.ts): the classifier's tensors under their own names, Adam's
// moments as optim.m.<name> / optim.v.<name>, metadata `optim` = {name: "adam", step}, `rng` =
// the noise Rng's state and `content_sha256` over every tensor; plus, as noise-classifier-io.ts,
// the architecture and the SDE, and `training`: the settings, the position in the data order,
// the log window not yet reported and the losses of the last tenth. Plain arrays: no tfjs here.
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../io/safetensors'
import { tensorsChecksum } from '../checkpoint/checkpoint'
import type { AdamState, NamedArray } from '../train/adam'
import type { RngState } from '../rng'
import type { NoiseClassifierConfig } from './noise-classifier'

export const NOISE_CLASSIFIER_STATE_FORMAT = 'score-lab/noise-classifier-state'
export const NOISE_CLASSIFIER_STATE_VERSION = '1'

/** What decides the stream: a state resumes only a training with the same settings. */
export interface NoiseClassifierTrainingSettings {
  steps: number
  seed: number
  batchSize: number
  lr: number
  eps: number
  /** Images in the training set (the epoch order is a permutation of them). */
  images: number
}

/** Sums since the last log point (a resumed training reports the same points). */
export interface NoiseClassifierLogWindow {
  steps: number
  lossSum: number
  correct: number
  samples: number
  bucketCorrect: number[]
  bucketCount: number[]
}

export interface NoiseClassifierTrainingState {
  /** Steps done. */
  step: number
  /** Training seconds spent on them (over every resume). */
  seconds: number
  settings: NoiseClassifierTrainingSettings
  config: NoiseClassifierConfig
  sde: { name: string } & Record<string, unknown>
  /** The classifier's parameters and buffers by name. */
  tensors: Record<string, NamedArray>
  optim: AdamState
  /** The noise stream (times and z). */
  noise: RngState
  /** Epoch orders drawn so far (each re-derives from the seed) and the position in the last one. */
  order: { epoch: number; cursor: number }
  window: NoiseClassifierLogWindow
  /** Batch losses and accuracies of the last tenth of the steps, for the final means. */
  tail: { losses: number[]; accs: number[] }
}

const PREFIX_M = 'optim.m.'
const PREFIX_V = 'optim.v.'
const CHECKSUM_KEY = 'content_sha256'

export function encodeNoiseClassifierState(state: NoiseClassifierTrainingState): Uint8Array {
  const tensors: Record<string, SafeTensor> = {}
  const put = (name: string, a: NamedArray) => (tensors[name] = { dtype: 'F32', shape: [...a.shape], data: a.data })
  for (const [n, a] of Object.entries(state.tensors)) {
    if (n.startsWith('optim.')) throw new Error(`noise classifier state: tensor name "${n}" clashes with the optimizer's prefix`)
    put(n, a)
  }
  for (const [n, a] of Object.entries(state.optim.m)) put(PREFIX_M + n, a)
  for (const [n, a] of Object.entries(state.optim.v)) put(PREFIX_V + n, a)
  const { step, settings, order, window, tail } = state
  return encodeSafetensors(tensors, {
    format: NOISE_CLASSIFIER_STATE_FORMAT,
    version: NOISE_CLASSIFIER_STATE_VERSION,
    step: String(step),
    seconds: String(state.seconds),
    config: JSON.stringify(state.config),
    sde: JSON.stringify(state.sde),
    optim: JSON.stringify({ name: 'adam', step: state.optim.step }),
    rng: JSON.stringify(state.noise),
    training: JSON.stringify({ settings, order, window, tail }),
    [CHECKSUM_KEY]: tensorsChecksum(tensors)
  })
}

/** Parses encodeNoiseClassifierState's bytes; `source` (a path) names the file in every error. */
export function decodeNoiseClassifierState(bytes: Uint8Array, source = 'noise classifier state'): NoiseClassifierTrainingState {
  const file = decodeSafetensors(bytes, source)
  const md = file.metadata
  const bad = (why: string): never => {
    throw new Error(`${source}: ${why}`)
  }
  if (md.format !== NOISE_CLASSIFIER_STATE_FORMAT) bad(`not a noise classifier training state (format "${md.format ?? 'missing'}")`)
  if (md.version !== NOISE_CLASSIFIER_STATE_VERSION) bad(`state version ${md.version} is not supported (this build reads ${NOISE_CLASSIFIER_STATE_VERSION})`)
  if (md[CHECKSUM_KEY] !== tensorsChecksum(file.tensors)) bad('its tensors do not match their checksum (damaged on disk)')
  const json = <T>(key: string): T => {
    try {
      return JSON.parse(md[key] ?? '') as T
    } catch {
      return bad(`metadata "${key}" is missing or not JSON`)
    }
  }
  const step = Number(md.step)
  const optim = json<{ name?: string; step?: number }>('optim')
  const training = json<Pick<NoiseClassifierTrainingState, 'settings' | 'order' | 'window' | 'tail'>>('training')
  if (!(Number.isInteger(step) && step >= 0)) bad(`metadata "step" is not a non-negative integer: ${md.step}`)
  if (optim?.name !== 'adam' || !Number.isInteger(optim.step)) bad('metadata "optim" is not an Adam state')
  if (!training?.settings || !training.order || !training.window || !training.tail) bad('metadata "training" is incomplete')
  const { tensors, m, v } = splitTensors(file.tensors, bad)
  return { step, seconds: Number(md.seconds) || 0, ...training, config: json('config'), sde: json('sde'), tensors, optim: { step: optim.step!, m, v }, noise: json('rng') }
}

/** The model's tensors and Adam's moments, by name (every tensor must be F32). */
function splitTensors(all: Record<string, SafeTensor>, bad: (why: string) => never) {
  const tensors: Record<string, NamedArray> = {}
  const m: Record<string, NamedArray> = {}
  const v: Record<string, NamedArray> = {}
  for (const [name, t] of Object.entries(all)) {
    if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) bad(`tensor "${name}" is ${t.dtype}, expected F32`)
    const a: NamedArray = { shape: t.shape, data: t.data as Float32Array }
    if (name.startsWith(PREFIX_M)) m[name.slice(PREFIX_M.length)] = a
    else if (name.startsWith(PREFIX_V)) v[name.slice(PREFIX_V.length)] = a
    else tensors[name] = a
  }
  return { tensors, m, v }
}

/**
 * Why `state` cannot continue a training with these settings, architecture and SDE (null when
 * it can): any difference would make the resumed stream another one.
 */
export function stateMismatch(state: NoiseClassifierTrainingState, settings: NoiseClassifierTrainingSettings, config: NoiseClassifierConfig, sde: object): string | null {
  for (const key of Object.keys(settings) as (keyof NoiseClassifierTrainingSettings)[]) {
    if (state.settings[key] !== settings[key]) return `it was saved with ${key} ${state.settings[key]}, not ${settings[key]}`
  }
  if (canonical(state.config) !== canonical(config)) return 'it was saved for another classifier architecture'
  if (canonical(state.sde) !== canonical(sde)) return 'it was saved for another SDE'
  if (!(state.step < settings.steps)) return `it is already at step ${state.step} of ${settings.steps}`
  return null
}

/** JSON with object keys sorted, so two equal configs compare equal whatever order built them. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v))
}
