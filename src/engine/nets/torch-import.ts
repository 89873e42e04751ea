// PyTorch interop for the tutorial ScoreNet (and any model exposing `torchLayouts`):
// load a safetensors file holding a PyTorch `state_dict` (PyTorch layouts, with or without
// DataParallel's `module.` prefix) and export ours in the same form, so PyTorch tools can read it:
//   from safetensors.torch import load_file; model.load_state_dict(load_file(path))
//
// Layout mapping (layers.ts): Linear [out,in] ↔ [in,out]; Conv2d [out,in,kh,kw] ↔ [kh,kw,in,out];
// ConvTranspose2d [in,out,kh,kw] ↔ [kh,kw,out,in]; vectors unchanged. No spatial flips.
import { halfToFloat } from '../io/half'
import { tf } from '../tf'
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../io/safetensors'
import type { Sde } from '../sde/types'
import { layoutPermutation, layoutRank, permuteShape } from './layers'
import { resolveScoreNetConfig, ScoreNet } from './scorenet'
import type { TorchCompatibleModel } from './types'
import { LABEL_EMBED } from './labels'

const MODULE_PREFIX = 'module.'

export class TorchImportError extends Error {
  override name = 'TorchImportError'
}

/** Drops DataParallel's `module.` prefix when every key has it (a mix is refused: it is not one model). */
export function stripModulePrefix(tensors: Record<string, SafeTensor>, source = 'state_dict'): Record<string, SafeTensor> {
  const names = Object.keys(tensors)
  const prefixed = names.filter((n) => n.startsWith(MODULE_PREFIX))
  if (prefixed.length === 0) return tensors
  if (prefixed.length !== names.length) {
    const plain = names.filter((n) => !n.startsWith(MODULE_PREFIX))
    throw new TorchImportError(`${source}: some keys have DataParallel's "module." prefix and some do not (${plain.slice(0, 3).join(', ')}${plain.length > 3 ? ', …' : ''})`)
  }
  return Object.fromEntries(names.map((n) => [n.slice(MODULE_PREFIX.length), tensors[n]!]))
}

/** Any float dtype PyTorch may have saved, as float32. */
function toFloat32(t: SafeTensor, name: string, source: string): Float32Array {
  switch (t.dtype) {
    case 'F32':
      return t.data as Float32Array
    case 'F64':
      return Float32Array.from(t.data as Float64Array)
    case 'F16':
      return Float32Array.from(t.data as Uint16Array, halfToFloat)
    case 'BF16': {
      const bits = new Uint32Array((t.data as Uint16Array).length)
      ;(t.data as Uint16Array).forEach((h, i) => (bits[i] = h << 16))
      return new Float32Array(bits.buffer)
    }
    default:
      throw new TorchImportError(`${source}: "${name}" is ${t.dtype}; a weight must be a float tensor (F32, F64, F16 or BF16)`)
  }
}


/**
 * Loads a PyTorch state_dict into `model`, converting layouts. All names and shapes are checked
 * before anything is assigned, and every problem (missing, unexpected, mis-shaped) is named.
 */
export function loadTorchStateDict(model: TorchCompatibleModel, stateDict: Record<string, SafeTensor>, source = 'state_dict'): void {
  const sd = stripModulePrefix(stateDict, source)
  const problems: string[] = []
  const targets = new Map<string, tf.Variable>()
  for (const name of model.torchLayouts.keys()) {
    const v = model.params.get(name) ?? model.buffers.get(name)
    if (v) targets.set(name, v)
  }
  const missing = [...targets.keys()].filter((n) => !(n in sd))
  const extra = Object.keys(sd).filter((n) => !targets.has(n))
  if (missing.length) problems.push(`missing ${missing.length} tensor(s): ${missing.join(', ')}`)
  if (extra.length) problems.push(`unexpected ${extra.length} tensor(s): ${extra.join(', ')}`)
  for (const [name, v] of targets) {
    const t = sd[name]
    if (!t) continue
    const layout = model.torchLayouts.get(name)!
    const want = permuteShape(layout, v.shape, 'toTorch')
    if (t.shape.join() !== want.join()) {
      problems.push(`"${name}" has shape [${t.shape.join(', ')}], expected [${want.join(', ')}] (PyTorch ${layout} layout)`)
    } else if (!['F32', 'F64', 'F16', 'BF16'].includes(t.dtype)) {
      problems.push(`"${name}" is ${t.dtype}, expected a float tensor`)
    }
  }
  if (problems.length) throw new TorchImportError(`${source} does not fit ${model.name}: ${problems.join('; ')}`)

  for (const [name, v] of targets) {
    const t = sd[name]!
    const layout = model.torchLayouts.get(name)!
    tf.tidy(() => {
      const raw = tf.tensor(toFloat32(t, name, source), t.shape, 'float32')
      const perm = layoutPermutation(layout, 'fromTorch')
      v.assign(perm && layoutRank(layout) === t.shape.length ? tf.transpose(raw, perm) : raw)
    })
  }
}

/**
 * Our weights as a PyTorch state_dict (PyTorch layouts and names, float32), in the model's order.
 * Async: the (transposed) weights are read back together with data(), as a synchronous read is
 * impossible on WebGPU in Node.
 */
export async function exportTorchStateDict(model: TorchCompatibleModel, opts: { modulePrefix?: boolean } = {}): Promise<Record<string, SafeTensor>> {
  const items: { key: string; shape: number[]; t: tf.Tensor; owned: boolean }[] = []
  try {
    for (const [name, layout] of model.torchLayouts) {
      const v = model.params.get(name) ?? model.buffers.get(name)
      if (!v) continue
      const perm = layoutPermutation(layout, 'toTorch')
      const owned = Boolean(perm && layoutRank(layout) === v.rank)
      items.push({ key: (opts.modulePrefix ? MODULE_PREFIX : '') + name, shape: permuteShape(layout, v.shape, 'toTorch'), t: owned ? tf.transpose(v, perm!) : v, owned })
    }
    const data = await Promise.all(items.map((it) => it.t.data()))
    const out: Record<string, SafeTensor> = {}
    items.forEach((it, i) => (out[it.key] = { dtype: 'F32', shape: it.shape, data: Float32Array.from(data[i] as Float32Array) }))
    return out
  } finally {
    for (const it of items) if (it.owned) it.t.dispose()
  }
}

/** exportTorchStateDict as .safetensors bytes; metadata records the model and its config. */
export async function encodeTorchSafetensors(model: TorchCompatibleModel, metadata: Record<string, string> = {}, opts: { modulePrefix?: boolean } = {}): Promise<Uint8Array> {
  return encodeSafetensors(await exportTorchStateDict(model, opts), { format: 'pt', model: model.name, config: JSON.stringify(model.config), ...metadata })
}

/**
 * Reads the architecture of a tutorial ScoreNet state_dict from its shapes: channels, embedding
 * size and image channels. The image size cannot be read from weights; it defaults to 28×28.
 */
export function scoreNetOptionsFromTorch(stateDict: Record<string, SafeTensor>, source = 'state_dict'): { channels: number[]; embedDim: number; imageChannels: number; classes: number } {
  const sd = stripModulePrefix(stateDict, source)
  const need = (name: string, rank: number): number[] => {
    const t = sd[name]
    if (!t) throw new TorchImportError(`${source}: not a tutorial ScoreNet state_dict (no "${name}")`)
    if (t.shape.length !== rank) throw new TorchImportError(`${source}: "${name}" has rank ${t.shape.length}, expected ${rank}`)
    return t.shape
  }
  const channels = ['conv1', 'conv2', 'conv3', 'conv4'].map((n) => need(`${n}.weight`, 4)[0]!)
  const imageChannels = need('conv1.weight', 4)[1]!
  const embedDim = need('embed.1.weight', 2)[0]!
  // A class-conditional net (Score Lab's, or its PyTorch package's) has K class rows and the null label's.
  const labels = sd[LABEL_EMBED]
  if (labels && (labels.shape.length !== 2 || labels.shape[0]! < 3)) throw new TorchImportError(`${source}: "label_embed.weight" has shape [${labels.shape.join(', ')}], expected [classes + 1, ${embedDim}] with at least 2 classes`)
  return { channels, embedDim, imageChannels, classes: labels ? labels.shape[0]! - 1 : 0 }
}

export interface ImportScoreNetOptions {
  sde: Sde
  /** Image [H, W] (default 28×28, the tutorial's MNIST); channels come from the weights. */
  size?: [number, number]
  /** GroupNorm groups when the model used other than the tutorial's 4/32 (not stored in a state_dict). */
  groups?: number[]
  /** Path or label for error messages. */
  source?: string
}

/** Builds a `scorenet` from a safetensors file with the tutorial's PyTorch state_dict. */
export function importTorchScoreNet(bytes: Uint8Array, opts: ImportScoreNetOptions): { model: ScoreNet; metadata: Record<string, string> } {
  const source = opts.source ?? 'PyTorch safetensors'
  const { tensors, metadata } = decodeSafetensors(bytes, source)
  const { channels, embedDim, imageChannels, classes } = scoreNetOptionsFromTorch(tensors, source)
  const [h, w] = opts.size ?? [28, 28]
  const cfg = resolveScoreNetConfig([h, w, imageChannels], { channels, embedDim, ...(opts.groups ? { groups: opts.groups } : {}), ...(classes ? { classes } : {}) })
  const model = new ScoreNet('scorenet', cfg, opts.sde, 0)
  try {
    loadTorchStateDict(model, tensors, source)
  } catch (err) {
    model.dispose()
    throw err
  }
  return { model, metadata }
}
