// safetensors reader and writer (https://github.com/huggingface/safetensors, "Format" section).
//
// Hand-written on purpose: the format is ~100 lines to implement, and there is no maintained npm
// package that both reads and writes it in Node without native bindings or a browser-only fetch
// layer. Owning it also lets us validate strictly and name the file and the problem in every
// error, which matters because checkpoints and imported PyTorch weights come from the user's disk.
//
// Layout: u64 little-endian N | N bytes of UTF-8 JSON header | byte buffer.
// Header: { "__metadata__"?: {string: string}, name: {dtype, shape, data_offsets: [begin, end]} }
// with offsets relative to the start of the byte buffer. Like the reference implementation we
// require the tensors to tile the buffer exactly (no gaps, no overlaps, nothing left over), and we
// pad the header with spaces so the buffer starts 8-byte aligned.
// Data is little-endian; every platform Node and Electron run on is little-endian, so typed
// arrays are copied byte for byte.

export type SafeDtype = 'F32' | 'F64' | 'I32' | 'I64' | 'U8' | 'F16' | 'BF16'

/** F16 and BF16 are carried as their raw 16-bit patterns. */
export type SafeData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array

export interface SafeTensor {
  dtype: SafeDtype
  shape: number[]
  data: SafeData
}

export interface SafetensorsFile {
  tensors: Record<string, SafeTensor>
  metadata: Record<string, string>
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError'
}

interface DtypeInfo {
  bytes: number
  array: new (buffer: ArrayBuffer) => SafeData
}

const DTYPES: Record<SafeDtype, DtypeInfo> = {
  F64: { bytes: 8, array: Float64Array },
  I64: { bytes: 8, array: BigInt64Array },
  F32: { bytes: 4, array: Float32Array },
  I32: { bytes: 4, array: Int32Array },
  F16: { bytes: 2, array: Uint16Array },
  BF16: { bytes: 2, array: Uint16Array },
  U8: { bytes: 1, array: Uint8Array }
}

const METADATA_KEY = '__metadata__'
/** Same cap as the Rust reference: a larger header is a corrupt or hostile file, not a model. */
const MAX_HEADER_BYTES = 100_000_000

function isDtype(s: unknown): s is SafeDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s)
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

function fail(source: string | undefined, problem: string): never {
  throw new SafetensorsError(`${source ?? 'safetensors data'}: ${problem}`)
}

/** Serialises tensors (and string metadata) to the bytes of a .safetensors file. */
export function encodeSafetensors(tensors: Record<string, SafeTensor>, metadata?: Record<string, string>): Uint8Array {
  const where = 'encodeSafetensors'
  const names = Object.keys(tensors)
  // Larger element sizes first so every tensor starts aligned to its own element size
  // (readers can then view the buffer without copying); stable sort keeps the caller's order.
  const order = names
    .map((name, i) => ({ name, i, bytes: isDtype(tensors[name]!.dtype) ? DTYPES[tensors[name]!.dtype].bytes : 0 }))
    .sort((a, b) => b.bytes - a.bytes || a.i - b.i)

  const header: Record<string, unknown> = {}
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(where, `metadata "${k}" must be a string, got ${typeof v}`)
    }
    header[METADATA_KEY] = { ...metadata }
  }
  let offset = 0
  for (const { name } of order) {
    if (name === METADATA_KEY) fail(where, `"${METADATA_KEY}" is reserved and cannot name a tensor`)
    const t = tensors[name]!
    if (!isDtype(t.dtype)) fail(where, `tensor "${name}" has unsupported dtype "${String(t.dtype)}"`)
    checkShape(where, name, t.shape)
    const info = DTYPES[t.dtype]
    if (!(t.data instanceof info.array)) {
      fail(where, `tensor "${name}" is ${t.dtype} but its data is a ${t.data?.constructor?.name ?? typeof t.data}, expected ${info.array.name}`)
    }
    if (t.data.length !== numel(t.shape)) {
      fail(where, `tensor "${name}" has ${t.data.length} elements but shape [${t.shape.join(', ')}] needs ${numel(t.shape)}`)
    }
    const size = t.data.length * info.bytes
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + size] }
    offset += size
  }

  const json = new TextEncoder().encode(JSON.stringify(header))
  const headerLen = Math.ceil(json.length / 8) * 8
  const out = new Uint8Array(8 + headerLen + offset)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, BigInt(headerLen), true)
  out.set(json, 8)
  out.fill(0x20, 8 + json.length, 8 + headerLen) // spaces: still valid JSON whitespace
  let pos = 8 + headerLen
  for (const { name } of order) {
    const d = tensors[name]!.data
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos)
    pos += d.byteLength
  }
  return out
}

/**
 * Parses and validates a .safetensors file. `source` (a path or a label) is put in every error.
 * The returned arrays are copies, so they are aligned and do not keep `bytes` alive.
 */
export function decodeSafetensors(bytes: Uint8Array, source?: string): SafetensorsFile {
  if (bytes.byteLength < 8) fail(source, `truncated file: ${bytes.byteLength} bytes, but the 8-byte header length alone needs 8`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n64 = view.getBigUint64(0, true)
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(source, `header length ${n64} is larger than the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`)
  const n = Number(n64)
  if (8 + n > bytes.byteLength) {
    fail(source, `truncated file or bad header length: the header claims ${n} bytes but only ${bytes.byteLength - 8} follow the length field`)
  }
  let header: unknown
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n))
    header = JSON.parse(text)
  } catch (err) {
    fail(source, `header is not valid UTF-8 JSON (not a safetensors file?): ${(err as Error).message}`)
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail(source, 'header is not a JSON object')

  const bufferStart = 8 + n
  const bufferLen = bytes.byteLength - bufferStart
  const metadata: Record<string, string> = {}
  const entries: { name: string; dtype: SafeDtype; shape: number[]; begin: number; end: number }[] = []

  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(source, `"${METADATA_KEY}" must be an object of strings`)
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(source, `metadata "${k}" must be a string, got ${JSON.stringify(v)}`)
        metadata[k] = v
      }
      continue
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(source, `tensor "${name}": entry is not an object`)
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>
    if (!isDtype(dtype)) {
      fail(source, `tensor "${name}": unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`)
    }
    checkShape(source, name, shape)
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(source, `tensor "${name}": data_offsets must be two non-negative integers, got ${JSON.stringify(offsets)}`)
    }
    const [begin, end] = offsets as [number, number]
    if (end < begin) fail(source, `tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`)
    if (end > bufferLen) {
      fail(source, `tensor "${name}": data_offsets [${begin}, ${end}] run past the end of the data (${bufferLen} bytes; truncated file?)`)
    }
    const need = numel(shape) * DTYPES[dtype].bytes
    if (end - begin !== need) {
      fail(source, `tensor "${name}": ${end - begin} bytes of data but ${dtype} shape [${shape.join(', ')}] needs ${need}`)
    }
    entries.push({ name, dtype, shape: [...shape], begin, end })
  }

  // The tensors must tile the buffer: sort by start and check each one begins where the last ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end)
  let cursor = 0
  let prev: string | undefined
  for (const e of sorted) {
    if (e.begin < cursor) fail(source, `tensors "${prev}" and "${e.name}" overlap (byte ${e.begin} < ${cursor})`)
    if (e.begin > cursor) fail(source, `gap in the data before tensor "${e.name}" (bytes ${cursor}..${e.begin} belong to no tensor)`)
    cursor = e.end
    prev = e.name
  }
  if (cursor !== bufferLen) fail(source, `${bufferLen - cursor} trailing bytes after the last tensor (data is ${bufferLen} bytes, tensors cover ${cursor})`)

  const tensors: Record<string, SafeTensor> = {}
  for (const e of entries) {
    // A fresh, aligned ArrayBuffer (not bytes.slice: on a Node Buffer that is a view of the pool).
    const copy = new Uint8Array(e.end - e.begin)
    copy.set(bytes.subarray(bufferStart + e.begin, bufferStart + e.end))
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: new DTYPES[e.dtype].array(copy.buffer) }
  }
  return { tensors, metadata }
}

function checkShape(source: string | undefined, name: string, shape: unknown): asserts shape is number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(source, `tensor "${name}": shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`)
  }
  if (!Number.isSafeInteger(numel(shape))) fail(source, `tensor "${name}": shape [${shape.join(', ')}] is too large`)
}
