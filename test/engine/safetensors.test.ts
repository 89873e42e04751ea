import { describe, expect, it } from 'vitest'
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type SafeTensor } from '../../src/engine/io/safetensors'

const sample = (): Record<string, SafeTensor> => ({
  'a.weight': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.5]) },
  b: { dtype: 'U8', shape: [3], data: Uint8Array.from([7, 8, 255]) },
  c: { dtype: 'F64', shape: [], data: Float64Array.from([Math.PI]) },
  d: { dtype: 'I64', shape: [2], data: BigInt64Array.from([-1n, 2n ** 40n]) },
  e: { dtype: 'I32', shape: [1, 2], data: Int32Array.from([-3, 4]) },
  f: { dtype: 'F16', shape: [2], data: Uint16Array.from([0x3c00, 0xc000]) },
  g: { dtype: 'BF16', shape: [1], data: Uint16Array.from([0x3f80]) },
  empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }
})

/** Builds a file from a raw header object and a data buffer, to make malformed inputs. */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header))
  const out = new Uint8Array(8 + json.length + data.length)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true)
  out.set(json, 8)
  out.set(data, 8 + json.length)
  return out
}

const expectError = (fn: () => unknown, re: RegExp) => {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(SafetensorsError)
  expect((err as Error).message).toMatch(/^model\.safetensors: /)
  expect((err as Error).message).toMatch(re)
}

describe('safetensors', () => {
  it('round-trips every dtype, shape and the metadata', () => {
    const bytes = encodeSafetensors(sample(), { format: 'pt', config: '{"a":1}' })
    const { tensors, metadata } = decodeSafetensors(bytes, 'x')
    expect(metadata).toEqual({ format: 'pt', config: '{"a":1}' })
    const want = sample()
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(want).sort())
    for (const [name, t] of Object.entries(want)) {
      expect(tensors[name]!.dtype).toBe(t.dtype)
      expect(tensors[name]!.shape).toEqual(t.shape)
      expect(tensors[name]!.data.constructor).toBe(t.data.constructor)
      expect(Array.from(tensors[name]!.data as ArrayLike<number | bigint>)).toEqual(Array.from(t.data as ArrayLike<number | bigint>))
    }
  })

  it('writes the documented layout: u64 LE length, space-padded JSON to 8 bytes, aligned offsets', () => {
    const bytes = encodeSafetensors(sample())
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true))
    expect(n % 8).toBe(0)
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n))
    expect(text.trimEnd().endsWith('}')).toBe(true)
    const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>
    expect(header.__metadata__).toBeUndefined()
    const sizes: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, U8: 1 }
    for (const { dtype, data_offsets } of Object.values(header)) expect(data_offsets[0] % sizes[dtype]!).toBe(0)
    expect(header['a.weight']!.data_offsets[1] - header['a.weight']!.data_offsets[0]).toBe(24)
  })

  it("decodes from a Node Buffer view (pooled memory) without picking up foreign bytes", () => {
    const bytes = encodeSafetensors({ w: { dtype: "F32", shape: [2], data: Float32Array.from([3, 4]) } })
    const pool = Buffer.alloc(bytes.length + 13)
    pool.set(bytes, 5)
    const { tensors } = decodeSafetensors(pool.subarray(5, 5 + bytes.length))
    expect(tensors.w!.data.length).toBe(2)
    expect(Array.from(tensors.w!.data as Float32Array)).toEqual([3, 4])
  })

  it('reads a file written by another writer (no padding, unaligned data)', () => {
    const f = new Float32Array([1.5, -2])
    const bytes = rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, __metadata__: { k: 'v' } }, new Uint8Array(f.buffer))
    const { tensors, metadata } = decodeSafetensors(bytes)
    expect(Array.from(tensors.w!.data as Float32Array)).toEqual([1.5, -2])
    expect(metadata).toEqual({ k: 'v' })
  })

  it('refuses bad inputs to the encoder', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/has 2 elements but shape \[3\] needs 3/)
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float64Array(2) } })).toThrow(/data is a Float64Array, expected Float32Array/)
    expect(() => encodeSafetensors({ w: { dtype: 'Q8' as 'U8', shape: [1], data: new Uint8Array(1) } })).toThrow(/unsupported dtype "Q8"/)
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } })).toThrow(/reserved/)
  })

  describe('refuses bad files, naming the file and the problem', () => {
    const good = () => encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array(2) }, b: { dtype: 'F32', shape: [1], data: new Float32Array(1) } })
    const data12 = new Uint8Array(12)
    it('shorter than the length field', () => expectError(() => decodeSafetensors(new Uint8Array(5), 'model.safetensors'), /truncated file: 5 bytes/))
    it('header length beyond the file', () => {
      const b = good()
      expectError(() => decodeSafetensors(b.subarray(0, 20), 'model.safetensors'), /header claims \d+ bytes but only 12 follow/)
    })
    it('absurd header length', () => {
      const b = new Uint8Array(16)
      new DataView(b.buffer).setBigUint64(0, 2n ** 60n, true)
      expectError(() => decodeSafetensors(b, 'model.safetensors'), /larger than the/)
    })
    it('truncated data', () => {
      const b = good()
      expectError(() => decodeSafetensors(b.subarray(0, b.length - 4), 'model.safetensors'), /run past the end of the data .*truncated/)
    })
    it('header not JSON', () => expectError(() => decodeSafetensors(rawFile(null, data12, '{"a": [1,'), 'model.safetensors'), /not valid UTF-8 JSON/))
    it('header not an object', () => expectError(() => decodeSafetensors(rawFile([1, 2], data12), 'model.safetensors'), /not a JSON object/))
    it('unknown dtype', () =>
      expectError(() => decodeSafetensors(rawFile({ a: { dtype: 'F8_E4M3', shape: [12], data_offsets: [0, 12] } }, data12), 'model.safetensors'), /tensor "a": unsupported dtype "F8_E4M3"/))
    it('shape/size mismatch', () =>
      expectError(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, data12), 'model.safetensors'), /tensor "a": 12 bytes of data but F32 shape \[2, 2\] needs 16/))
    it('bad shape', () =>
      expectError(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [-3], data_offsets: [0, 12] } }, data12), 'model.safetensors'), /shape must be a list of non-negative integers/))
    it('offsets out of range', () =>
      expectError(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data12), 'model.safetensors'), /tensor "a": data_offsets \[0, 16\] run past the end/))
    it('offsets malformed', () =>
      expectError(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0] } }, data12), 'model.safetensors'), /data_offsets must be two non-negative integers/))
    it('overlapping tensors', () =>
      expectError(
        () =>
          decodeSafetensors(
            rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data12),
            'model.safetensors'
          ),
        /tensors "a" and "b" overlap/
      ))
    it('gap between tensors', () =>
      expectError(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data12), 'model.safetensors'), /gap in the data before tensor "a"/))
    it('trailing bytes', () =>
      expectError(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data12), 'model.safetensors'), /4 trailing bytes/))
    it('non-string metadata', () =>
      expectError(() => decodeSafetensors(rawFile({ __metadata__: { step: 3 } }, new Uint8Array(0)), 'model.safetensors'), /metadata "step" must be a string/))
  })
})
