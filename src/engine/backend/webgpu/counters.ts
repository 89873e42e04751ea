// Counts what the GPU is asked to do between start() and stop(): compute dispatches, queue
// submits, uploads and downloads with their bytes, GPU-side buffer copies, and tfjs-webgpu's
// runWebGPUProgram calls (issue 22: "count what the GPU is asked to do").
//
// The hooks sit on the WebGPU API itself (the prototypes of GPUComputePassEncoder, GPUQueue,
// GPUCommandEncoder, GPUDevice and GPUBuffer, which Dawn for Node and browsers both expose as
// globals), so a kernel of ours that records its own passes is counted like tfjs' own: the
// numbers are what reaches the device, not what tfjs thinks it did. runWebGPUProgram is wrapped
// on the backend instance. stop() puts every original back.
import { tf } from '../../tf'

export interface GpuCounts {
  /** tfjs-webgpu runWebGPUProgram calls (one per program tfjs records). */
  programs: number
  /** dispatchWorkgroups (and …Indirect) calls: compute shader launches. */
  dispatches: number
  /** queue.submit calls. */
  submits: number
  /**
   * Tensor data sent to the GPU: a buffer mapped for writing (mappedAtCreation, as tfjs-webgpu's
   * uploadToGPU does, or mapAsync(WRITE)) and then unmapped, or a queue.writeBuffer into a
   * non-uniform buffer.
   */
  uploads: number
  uploadBytes: number
  /** queue.writeBuffer into uniform buffers (tfjs-webgpu writes one per dispatch: shapes, sizes). */
  uniformWrites: number
  uniformBytes: number
  /** Buffers mapped for reading (mapAsync(READ)): every read back to the host. */
  downloads: number
  downloadBytes: number
  /** copyBufferToBuffer calls (GPU-side: staging for uploads and downloads, tensor clones). */
  copies: number
  copyBytes: number
}

export const ZERO_COUNTS: Readonly<GpuCounts> = Object.freeze({
  programs: 0,
  dispatches: 0,
  submits: 0,
  uploads: 0,
  uploadBytes: 0,
  uniformWrites: 0,
  uniformBytes: 0,
  downloads: 0,
  downloadBytes: 0,
  copies: 0,
  copyBytes: 0
})

/** Each count divided by n (per step, when n steps were counted). */
export function divideCounts(c: GpuCounts, n: number): GpuCounts {
  const out = { ...c }
  for (const k of Object.keys(out) as (keyof GpuCounts)[]) out[k] = c[k] / n
  return out
}

// WebGPU's flag values (spec constants), so this module loads where the globals are absent.
const MAP_READ_MODE = 1
const MAP_WRITE_MODE = 2
const USAGE_UNIFORM = 0x40

interface BufferLike {
  size: number
  usage: number
}
type Method = (this: unknown, ...args: unknown[]) => unknown
interface Patch {
  target: object
  name: string
  before: PropertyDescriptor | undefined
}

let active: GpuCounters | null = null

/** Counting hooks on the WebGPU API; one set at a time (nested ones would count twice). */
export class GpuCounters {
  private counts: GpuCounts = { ...ZERO_COUNTS }
  private readonly patches: Patch[] = []
  /** Buffers mapped for writing whose unmap is an upload. */
  private readonly writeMapped = new WeakSet<object>()
  private stopped = false

  private constructor() {}

  /** Hooks the WebGPU globals and the given backend (default: the active one, which must be webgpu). */
  static start(backend: unknown = tf.backend()): GpuCounters {
    if (active) throw new Error('GpuCounters.start: counters are already running; stop() them first')
    const g = globalThis as unknown as Record<string, { prototype: object } | undefined>
    const protos = ['GPUComputePassEncoder', 'GPUQueue', 'GPUCommandEncoder', 'GPUDevice', 'GPUBuffer'].map((n) => {
      const p = g[n]?.prototype
      if (!p) throw new Error(`GpuCounters.start: the WebGPU global ${n} is missing (select the webgpu backend first)`)
      return p
    })
    const b = backend as { runWebGPUProgram?: Method }
    if (typeof b.runWebGPUProgram !== 'function') throw new Error('GpuCounters.start: the backend is not tfjs-webgpu (it has no runWebGPUProgram)')
    const [pass, queue, encoder, device, buffer] = protos as [object, object, object, object, object]
    const c = new GpuCounters()
    try {
      c.install(backend as object, 'runWebGPUProgram', (orig) =>
        function (this: unknown, ...args) {
          c.counts.programs++
          return orig.apply(this, args)
        }
      )
      for (const name of ['dispatchWorkgroups', 'dispatchWorkgroupsIndirect']) {
        c.install(pass, name, (orig) =>
          function (this: unknown, ...args) {
            c.counts.dispatches++
            return orig.apply(this, args)
          }
        )
      }
      c.install(queue, 'submit', (orig) =>
        function (this: unknown, ...args) {
          c.counts.submits++
          return orig.apply(this, args)
        }
      )
      c.install(queue, 'writeBuffer', (orig) =>
        function (this: unknown, ...args) {
          // writeBuffer(buffer, bufferOffset, data, dataOffset?, size?): size counts elements of a typed array, bytes of an ArrayBuffer.
          const [buf, , data, dataOffset, size] = args as [BufferLike, number, ArrayBufferView | ArrayBuffer, number | undefined, number | undefined]
          const unit = ArrayBuffer.isView(data) ? ((data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1) : 1
          const bytes = size !== undefined ? size * unit : data.byteLength - (dataOffset ?? 0) * unit
          if (buf.usage & USAGE_UNIFORM) {
            c.counts.uniformWrites++
            c.counts.uniformBytes += bytes
          } else {
            c.counts.uploads++
            c.counts.uploadBytes += bytes
          }
          return orig.apply(this, args)
        }
      )
      c.install(encoder, 'copyBufferToBuffer', (orig) =>
        function (this: unknown, ...args) {
          // (src, srcOffset, dst, dstOffset, size) or the newer (src, dst, size?).
          const bytes = args.length >= 5 ? (args[4] as number) : ((args[2] as number | undefined) ?? (args[0] as BufferLike).size)
          c.counts.copies++
          c.counts.copyBytes += bytes
          return orig.apply(this, args)
        }
      )
      c.install(device, 'createBuffer', (orig) =>
        function (this: unknown, ...args) {
          const buf = orig.apply(this, args) as object
          if ((args[0] as { mappedAtCreation?: boolean }).mappedAtCreation) c.writeMapped.add(buf)
          return buf
        }
      )
      c.install(buffer, 'mapAsync', (orig) =>
        function (this: BufferLike, ...args) {
          const [mode, offset, size] = args as [number, number | undefined, number | undefined]
          if (mode & MAP_READ_MODE) {
            c.counts.downloads++
            c.counts.downloadBytes += size ?? this.size - (offset ?? 0)
          }
          if (mode & MAP_WRITE_MODE) c.writeMapped.add(this)
          return orig.apply(this, args)
        } as Method
      )
      c.install(buffer, 'unmap', (orig) =>
        function (this: BufferLike, ...args) {
          if (c.writeMapped.has(this)) {
            c.writeMapped.delete(this)
            c.counts.uploads++
            c.counts.uploadBytes += this.size
          }
          return orig.apply(this, args)
        } as Method
      )
    } catch (e) {
      c.restore()
      throw e
    }
    active = c
    return c
  }

  /** The counts so far (counting goes on). */
  read(): GpuCounts {
    return { ...this.counts }
  }

  /** Zeroes the counts (e.g. after a warm-up step). */
  reset(): void {
    this.counts = { ...ZERO_COUNTS }
  }

  /** Removes every hook and returns the final counts. */
  stop(): GpuCounts {
    if (!this.stopped) this.restore()
    return this.read()
  }

  private install(target: object, name: string, wrap: (orig: Method) => Method): void {
    const before = Object.getOwnPropertyDescriptor(target, name)
    const orig = (target as Record<string, unknown>)[name]
    if (typeof orig !== 'function') throw new Error(`GpuCounters.start: ${name} is not a method here`)
    Object.defineProperty(target, name, { value: wrap(orig as Method), writable: true, configurable: true, enumerable: before?.enumerable ?? false })
    this.patches.push({ target, name, before })
  }

  private restore(): void {
    // Backwards, so a property patched twice ends as it began.
    for (const p of this.patches.reverse()) {
      if (p.before) Object.defineProperty(p.target, p.name, p.before)
      else delete (p.target as Record<string, unknown>)[p.name] // an instance's own wrapper: the prototype's method shows again
    }
    this.patches.length = 0
    this.stopped = true
    if (active === this) active = null
  }
}
