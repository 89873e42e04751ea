// A NoiseClassifier as a .safetensors file: its parameters and the frozen Fourier frequencies as
// F32 tensors under their names; in the string metadata the format tag, the architecture (JSON),
// the SDE it was trained for (JSON of Sde.toConfig(): its embedding learned that schedule, so
// loading rebuilds the same SDE) and what it was trained on. Bytes in and out (as feature-net-io.ts).
import { assignArray, readArrays } from '../train/adam'
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../io/safetensors'
import { createSde } from '../sde'
import { NoiseClassifier, type NoiseClassifierConfig } from './noise-classifier'

export const NOISE_CLASSIFIER_FORMAT = 'score-lab/noise-classifier'
export const NOISE_CLASSIFIER_VERSION = '1'

/** What a saved classifier says about itself (all optional: a fresh one has none of it). */
export interface NoiseClassifierMeta {
  /** Data set key, e.g. 'fashion-mnist'. */
  dataset?: string
  steps?: number
  /** Training seed (the initial weights come from config.seed). */
  seed?: number
  trainSeconds?: number
  /** Test accuracy at a few times (e.g. t ≈ 0 and t = T), as accuracyByTime measured it. */
  accuracyByTime?: { t: number; accuracy: number }[]
}

/** Async: the weights are read back with data() (a synchronous read is impossible on WebGPU in Node). */
export async function encodeNoiseClassifier(classifier: NoiseClassifier, meta: NoiseClassifierMeta = {}): Promise<Uint8Array> {
  const tensors: Record<string, SafeTensor> = {}
  const arrays = await readArrays([...classifier.params, ...classifier.buffers])
  for (const [name, a] of Object.entries(arrays)) tensors[name] = { dtype: 'F32', shape: a.shape, data: a.data }
  const metadata: Record<string, string> = {
    format: NOISE_CLASSIFIER_FORMAT,
    version: NOISE_CLASSIFIER_VERSION,
    config: JSON.stringify(classifier.config),
    sde: JSON.stringify(classifier.sde.toConfig())
  }
  if (meta.dataset !== undefined) metadata.dataset = meta.dataset
  for (const key of ['steps', 'seed', 'trainSeconds'] as const) if (meta[key] !== undefined) metadata[key] = String(meta[key])
  if (meta.accuracyByTime !== undefined) metadata.accuracyByTime = JSON.stringify(meta.accuracyByTime)
  return encodeSafetensors(tensors, metadata)
}

/** The file's safetensors contents and architecture, its format and version checked. */
function readFile(bytes: Uint8Array, source: string) {
  const file = decodeSafetensors(bytes, source)
  const md = file.metadata
  if (md.format !== NOISE_CLASSIFIER_FORMAT) throw new Error(`${source}: not a Score Lab noise-conditional classifier (format "${md.format ?? 'missing'}", expected "${NOISE_CLASSIFIER_FORMAT}")`)
  if (md.version !== NOISE_CLASSIFIER_VERSION) throw new Error(`${source}: noise classifier version ${md.version} is not supported (this build reads ${NOISE_CLASSIFIER_VERSION})`)
  return { file, md, config: parseJson<NoiseClassifierConfig>(md.config, 'config', source) }
}

/** The architecture alone (e.g. its class count), without building the network. */
export function noiseClassifierConfig(bytes: Uint8Array, source = 'noise classifier'): NoiseClassifierConfig {
  return readFile(bytes, source).config
}

/** Rebuilds a NoiseClassifier (and its SDE) from encodeNoiseClassifier's bytes; `source` (a path) names the file in errors. */
export function decodeNoiseClassifier(bytes: Uint8Array, source = 'noise classifier'): { classifier: NoiseClassifier; meta: NoiseClassifierMeta } {
  const { file, md, config } = readFile(bytes, source)
  const sdeConfig = parseJson<{ name: string } & Record<string, unknown>>(md.sde, 'sde', source)
  const classifier = new NoiseClassifier(config, createSde(sdeConfig))
  try {
    const expected = new Map([...classifier.params, ...classifier.buffers])
    for (const name of Object.keys(file.tensors)) if (!expected.has(name)) throw new Error(`${source}: unexpected tensor "${name}"`)
    for (const [name, variable] of expected) {
      const t = file.tensors[name]
      if (!t) throw new Error(`${source}: tensor "${name}" is missing`)
      if (t.dtype !== 'F32') throw new Error(`${source}: tensor "${name}" is ${t.dtype}, expected F32`)
      assignArray(variable, { shape: t.shape, data: t.data as Float32Array }, `${source}: ${name}`)
    }
  } catch (err) {
    classifier.dispose()
    throw err
  }
  const num = (key: string) => (md[key] === undefined ? undefined : Number(md[key]))
  const meta: NoiseClassifierMeta = { dataset: md.dataset, steps: num('steps'), seed: num('seed'), trainSeconds: num('trainSeconds') }
  if (md.accuracyByTime !== undefined) meta.accuracyByTime = parseJson<{ t: number; accuracy: number }[]>(md.accuracyByTime, 'accuracyByTime', source)
  for (const key of Object.keys(meta) as (keyof NoiseClassifierMeta)[]) if (meta[key] === undefined) delete meta[key]
  return { classifier, meta }
}

function parseJson<T>(text: string | undefined, key: string, source: string): T {
  try {
    return JSON.parse(text ?? '') as T
  } catch {
    throw new Error(`${source}: the noise classifier's ${key} metadata is ${text === undefined ? 'missing' : 'not JSON'}`)
  }
}
