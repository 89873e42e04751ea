// Score Lab checkpoints: one .safetensors file that resumes a run exactly.
//
// Tensors (all F32, tfjs layouts):
//   <name>            model parameters and buffers under the model's own names
//                     (scorenet: the tutorial's state_dict keys, e.g. `conv1.weight`, `embed.0.W`;
//                      mlp: `fc0.weight`, `embed.W`, …)
//   ema.<name>        EMA shadow of each trainable parameter (absent when the run has no EMA)
//   optim.m.<name>    Adam first moment of each trainable parameter
//   optim.v.<name>    Adam second moment
// `__metadata__` (strings):
//   format            "score-lab.checkpoint"        format_version  "1"
//   step              updates applied                 config          JSON {model, sde, train}
//   rng               JSON RngState                   ema             JSON {decay, numUpdates} or "null"
//   optim             JSON {name: "adam", step}
//   content_sha256    SHA-256 over every tensor (name, dtype, shape, bytes; names sorted). safetensors
//                     has no checksum of its own, and a flipped bit in a weight still parses; this
//                     catches it on load. Files written before it existed load without the check.
// Writes are atomic (temp file + fsync + rename), so a crash never leaves a torn checkpoint.
import fs from 'node:fs'
import crypto from 'node:crypto'
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../io/safetensors'
import { writeFileAtomic } from '../io/atomic-write'
import type { NamedArray } from '../train/adam'
import type { Trainer, TrainerState } from '../train/trainer'
import { resolveTrainerConfig } from '../train/config'

export const CHECKPOINT_FORMAT = 'score-lab.checkpoint'
export const CHECKPOINT_VERSION = '1'

export class CheckpointError extends Error {
  override name = 'CheckpointError'
}

const PREFIX_EMA = 'ema.'
const CHECKSUM_KEY = 'content_sha256'

/** The content checksum of a set of tensors, independent of their order in the file. */
export function tensorsChecksum(tensors: Record<string, SafeTensor>): string {
  const h = crypto.createHash('sha256')
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name]!
    h.update(`${name}\0${t.dtype}\0${t.shape.join(',')}\0`)
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
  }
  return h.digest('hex')
}
const PREFIX_M = 'optim.m.'
const PREFIX_V = 'optim.v.'

export function encodeCheckpoint(state: TrainerState): Uint8Array {
  const tensors: Record<string, SafeTensor> = {}
  const put = (name: string, a: NamedArray) => {
    if (name in tensors) throw new CheckpointError(`two tensors would be saved as "${name}"`)
    tensors[name] = { dtype: 'F32', shape: [...a.shape], data: a.data }
  }
  for (const [n, a] of Object.entries(state.params)) {
    if (n.startsWith(PREFIX_EMA) || n.startsWith('optim.')) throw new CheckpointError(`parameter name "${n}" clashes with the checkpoint's reserved prefixes`)
    put(n, a)
  }
  if (state.ema) for (const [n, a] of Object.entries(state.ema.shadow)) put(PREFIX_EMA + n, a)
  for (const [n, a] of Object.entries(state.optim.m)) put(PREFIX_M + n, a)
  for (const [n, a] of Object.entries(state.optim.v)) put(PREFIX_V + n, a)
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    step: String(state.step),
    config: JSON.stringify({ model: state.model, sde: state.sde, train: state.train }),
    rng: JSON.stringify(state.rng),
    ema: JSON.stringify(state.ema ? { decay: state.ema.decay, numUpdates: state.ema.numUpdates } : null),
    optim: JSON.stringify({ name: 'adam', step: state.optim.step }),
    [CHECKSUM_KEY]: tensorsChecksum(tensors)
  }
  return encodeSafetensors(tensors, metadata)
}

/** Parses checkpoint bytes; `source` (usually the path) is named in every error. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): TrainerState {
  let file
  try {
    file = decodeSafetensors(bytes, source)
  } catch (err) {
    throw new CheckpointError(`${(err as Error).message} — ${source} is not a readable Score Lab checkpoint`)
  }
  const md = file.metadata
  const bad = (why: string): never => {
    throw new CheckpointError(`${source}: ${why}`)
  }
  if (md.format !== CHECKPOINT_FORMAT) {
    bad(
      `not a Score Lab checkpoint (its safetensors metadata has format ${JSON.stringify(md.format ?? null)}, expected "${CHECKPOINT_FORMAT}"). ` +
        'To load PyTorch tutorial weights, use the import path instead.'
    )
  }
  if (md.format_version !== CHECKPOINT_VERSION) bad(`checkpoint format version ${md.format_version} is not supported (this build reads ${CHECKPOINT_VERSION})`)
  if (md[CHECKSUM_KEY] !== undefined && md[CHECKSUM_KEY] !== tensorsChecksum(file.tensors)) {
    bad('its tensors do not match the checksum written with them (the file was damaged on disk after it was saved)')
  }
  const json = (key: string): unknown => {
    if (typeof md[key] !== 'string') bad(`metadata "${key}" is missing`)
    try {
      return JSON.parse(md[key])
    } catch {
      return bad(`metadata "${key}" is not valid JSON`)
    }
  }
  const config = json('config') as { model?: TrainerState['model']; sde?: TrainerState['sde']; train?: unknown }
  if (!config?.model?.name || !Array.isArray(config.model.shape) || !config.sde?.name || !config.train) bad('metadata "config" lacks model, sde or train')
  const emaMeta = json('ema') as { decay: number; numUpdates: number } | null
  const optimMeta = json('optim') as { name?: string; step?: number }
  if (optimMeta?.name !== 'adam' || !Number.isInteger(optimMeta.step)) bad('metadata "optim" is not an Adam state')
  const step = Number(md.step)
  if (!Number.isInteger(step) || step < 0) bad(`metadata "step" is not a non-negative integer: ${md.step}`)

  const params: Record<string, NamedArray> = {}
  const shadow: Record<string, NamedArray> = {}
  const m: Record<string, NamedArray> = {}
  const v: Record<string, NamedArray> = {}
  for (const [name, t] of Object.entries(file.tensors)) {
    if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) bad(`tensor "${name}" is ${t.dtype}, expected F32`)
    const a: NamedArray = { shape: t.shape, data: t.data as Float32Array }
    if (name.startsWith(PREFIX_EMA)) shadow[name.slice(PREFIX_EMA.length)] = a
    else if (name.startsWith(PREFIX_M)) m[name.slice(PREFIX_M.length)] = a
    else if (name.startsWith(PREFIX_V)) v[name.slice(PREFIX_V.length)] = a
    else params[name] = a
  }
  for (const n of Object.keys(m)) if (!(n in v)) bad(`optim.m.${n} has no matching optim.v.${n}`)
  if (emaMeta && Object.keys(shadow).length === 0) bad('metadata says the run has an EMA but no ema.* tensors are present')
  let train
  try {
    train = resolveTrainerConfig(config.train as Record<string, unknown>)
  } catch (err) {
    return bad(`training settings in metadata are invalid: ${(err as Error).message}`)
  }
  return {
    step,
    model: config.model!,
    sde: config.sde!,
    train,
    params,
    ema: emaMeta ? { decay: emaMeta.decay, numUpdates: emaMeta.numUpdates, shadow } : null,
    optim: { step: optimMeta.step!, m, v },
    rng: json('rng') as TrainerState['rng']
  }
}

/** Saves a trainer (or a state) atomically to `file`. */
export async function saveCheckpoint(file: string, source: Trainer | TrainerState): Promise<void> {
  const state = 'exportState' in source ? await source.exportState() : source
  await writeFileAtomic(file, encodeCheckpoint(state))
}

/** Reads and validates a checkpoint; errors name the file. Resume with Trainer.fromState(state). */
export async function loadCheckpoint(file: string): Promise<TrainerState> {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await fs.promises.readFile(file))
  } catch (err) {
    throw new CheckpointError(`cannot read checkpoint ${file}: ${(err as Error).message}`)
  }
  return decodeCheckpoint(bytes, file)
}

/**
 * The step and EMA flag of a checkpoint from its header alone (a few kB read, no tensors), for
 * listing a folder whose manifest is lost. Full verification happens in loadCheckpoint.
 */
export function peekCheckpoint(file: string): { step: number; hasEma: boolean } {
  const fd = fs.openSync(file, 'r')
  try {
    const len = Buffer.alloc(8)
    if (fs.readSync(fd, len, 0, 8, 0) !== 8) throw new CheckpointError(`${file}: truncated file`)
    const n = Number(len.readBigUInt64LE(0))
    if (n > 1_000_000) throw new CheckpointError(`${file}: header of ${n} bytes is too large for a Score Lab checkpoint`)
    const header = Buffer.alloc(n)
    if (fs.readSync(fd, header, 0, n, 8) !== n) throw new CheckpointError(`${file}: truncated header`)
    let md: Record<string, string> | undefined
    try {
      md = (JSON.parse(header.toString('utf8')) as { __metadata__?: Record<string, string> }).__metadata__
    } catch {
      throw new CheckpointError(`${file}: header is not JSON`)
    }
    if (md?.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${file}: not a Score Lab checkpoint`)
    const step = Number(md.step)
    if (!Number.isInteger(step) || step < 0) throw new CheckpointError(`${file}: metadata "step" is not a non-negative integer`)
    return { step, hasEma: md.ema !== undefined && md.ema !== 'null' }
  } finally {
    fs.closeSync(fd)
  }
}
