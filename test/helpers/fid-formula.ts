// The formula weights of test/fixtures/inception-fid/reference.py: every tensor of the FID
// Inception-v3 from (name, flat index), so tests load a working network without its real weights
// (which are never committed or downloaded). Shared by the engine's parity test and the lab's.
import { encodeSafetensors, type SafeTensor } from '../../src/engine/io/safetensors'
import { fidInceptionTensors } from '../../src/engine/metrics/inception-fid'

function fnv1a32(name: string): number {
  let h = 2166136261
  for (const b of new TextEncoder().encode(name)) h = Math.imul(h ^ b, 16777619) >>> 0
  return h
}

/** n values in [0, 1): murmur3's fmix32 of (FNV-1a(name) ^ i·0x9E3779B1) / 2^32 (reference.py). */
export function formulaUniform(name: string, n: number): Float64Array {
  const seed = fnv1a32(name)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let x = (seed ^ Math.imul(i, 0x9e3779b1)) >>> 0
    x ^= x >>> 16
    x = Math.imul(x, 0x85ebca6b) >>> 0
    x ^= x >>> 13
    x = Math.imul(x, 0xc2b2ae35) >>> 0
    x ^= x >>> 16
    out[i] = (x >>> 0) / 2 ** 32
  }
  return out
}

/** reference.py's formula_tensor: He-uniform convs, BatchNorm near identity, float32. */
export function formulaTensor(name: string, shape: number[]): Float32Array {
  const u = formulaUniform(name, shape.reduce((a, b) => a * b, 1))
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1)
  // value = offset + gain · s with s = 2u − 1 in [−1, 1), the same double operations as numpy's.
  const [offset, gain] = name.endsWith('.conv.weight')
    ? [0, Math.sqrt(6 / fanIn)]
    : name.endsWith('.bn.weight')
      ? [1, 0.1]
      : name.endsWith('.bn.bias') || name.endsWith('.bn.running_mean')
        ? [0, 0.1]
        : name.endsWith('.bn.running_var')
          ? [1, 0.25]
          : [0, 0.01]
  const out = new Float32Array(u.length)
  for (let i = 0; i < u.length; i++) out[i] = offset + gain * (2 * u[i] - 1)
  return out
}

/** The whole formula network as a converted weights file (what scripts/fid-inception-to-safetensors.py writes). */
export function formulaWeightsFile(): Uint8Array {
  const tensors: Record<string, SafeTensor> = {}
  for (const { name, shape } of fidInceptionTensors()) tensors[name] = { dtype: 'F32', shape, data: formulaTensor(name, shape) }
  return encodeSafetensors(tensors)
}
