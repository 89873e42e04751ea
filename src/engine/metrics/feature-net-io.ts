// A FeatureNet as a .safetensors file: its variables as F32 tensors under their names, and in
// the string metadata the format tag, the architecture (JSON) and what it was trained on. Bytes
// in and out; the lab decides where the file lives.
import { assignArray } from '../train/adam'
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../io/safetensors'
import { FeatureNet, type FeatureNetConfig } from './feature-net'

export const FEATURE_NET_FORMAT = 'score-lab/feature-net'
export const FEATURE_NET_VERSION = '1'

/** What a saved classifier says about itself (all optional: a fresh net has none of it). */
export interface FeatureNetMeta {
  /** Data set key, e.g. 'fashion-mnist'. */
  dataset?: string
  steps?: number
  /** Training seed (the initial weights come from config.seed). */
  seed?: number
  /** Share of the data set's test split classified correctly. */
  testAccuracy?: number
  trainSeconds?: number
}

export async function encodeFeatureNet(net: FeatureNet, meta: FeatureNetMeta = {}): Promise<Uint8Array> {
  const tensors: Record<string, SafeTensor> = {}
  // Asynchronous reads, all in flight at once: a synchronous one is impossible on WebGPU in Node.
  const entries = [...net.params]
  const values = await Promise.all(entries.map(([, v]) => v.data()))
  entries.forEach(([name, v], i) => (tensors[name] = { dtype: 'F32', shape: [...v.shape], data: (values[i] as Float32Array).slice() }))
  const metadata: Record<string, string> = { format: FEATURE_NET_FORMAT, version: FEATURE_NET_VERSION, config: JSON.stringify(net.config) }
  if (meta.dataset !== undefined) metadata.dataset = meta.dataset
  for (const key of ['steps', 'seed', 'testAccuracy', 'trainSeconds'] as const) {
    if (meta[key] !== undefined) metadata[key] = String(meta[key])
  }
  return encodeSafetensors(tensors, metadata)
}

/** Rebuilds a FeatureNet from encodeFeatureNet's bytes; `source` (a path) names the file in errors. */
export function decodeFeatureNet(bytes: Uint8Array, source = 'feature net'): { net: FeatureNet; meta: FeatureNetMeta } {
  const file = decodeSafetensors(bytes, source)
  const md = file.metadata
  if (md.format !== FEATURE_NET_FORMAT) throw new Error(`${source}: not a Score Lab feature network (format "${md.format ?? 'missing'}", expected "${FEATURE_NET_FORMAT}")`)
  if (md.version !== FEATURE_NET_VERSION) throw new Error(`${source}: feature network version ${md.version} is not supported (this build reads ${FEATURE_NET_VERSION})`)
  let config: FeatureNetConfig
  try {
    config = JSON.parse(md.config ?? '') as FeatureNetConfig
  } catch {
    throw new Error(`${source}: the feature network's config metadata is not JSON`)
  }
  const net = new FeatureNet(config)
  try {
    const names = new Set(net.params.keys())
    for (const name of Object.keys(file.tensors)) if (!names.has(name)) throw new Error(`${source}: unexpected tensor "${name}"`)
    for (const [name, variable] of net.params) {
      const t = file.tensors[name]
      if (!t) throw new Error(`${source}: tensor "${name}" is missing`)
      if (t.dtype !== 'F32') throw new Error(`${source}: tensor "${name}" is ${t.dtype}, expected F32`)
      assignArray(variable, { shape: t.shape, data: t.data as Float32Array }, `${source}: ${name}`)
    }
  } catch (err) {
    net.dispose()
    throw err
  }
  const num = (key: string) => (md[key] === undefined ? undefined : Number(md[key]))
  const meta: FeatureNetMeta = { dataset: md.dataset, steps: num('steps'), seed: num('seed'), testAccuracy: num('testAccuracy'), trainSeconds: num('trainSeconds') }
  for (const key of Object.keys(meta) as (keyof FeatureNetMeta)[]) if (meta[key] === undefined) delete meta[key]
  return { net, meta }
}
