// Chooses the TensorFlow.js backend at start. Order: libtensorflow (CUDA or CPU) → WebGPU on a
// real adapter → native (wasm + Score Lab's C++ kernels) → wasm (SIMD) → pure-JS cpu.
// SCORE_LAB_BACKEND forces one.
// Every skipped backend records a reason and, where there is one, the exact fix, so the
// UI, the CLI and `score-lab doctor` can say in plain words why it is not in use.
import { createRequire } from 'node:module'
import path from 'node:path'
import os from 'node:os'
import { existsSync } from 'node:fs'
import { tf } from '../tf'
import { BACKEND_NAMES, parseBackendName, type BackendAttempt, type BackendInfo, type BackendName } from './types'
import { registerWasmTrainingKernels } from './wasm-kernels'
import { prepareNodeWasmThreads, unrefWasmThreadWorkers } from './wasm-threads'
import { nativeStatus, useNativeKernels } from './native-kernels'
import { kernelSelfCheck, nativeSelfCheck, SELF_CHECK_BOUND } from './kernel-self-check'
import { useWebgpuKernels } from './webgpu/kernels'
import { NATIVE_BUILD_HINT } from './native-addon'

const require = createRequire(import.meta.url)

// Defined with the names (tf-free), so the CLI can check --backend without loading TensorFlow.js.
export { parseBackendName }

export interface SelectOptions {
  /** Force one backend (same as SCORE_LAB_BACKEND). Failing to load a forced backend is an error. */
  force?: BackendName
  /** Allow software WebGPU adapters (SwiftShader): correct but slow, so only for tests. */
  allowSoftwareWebgpu?: boolean
  /** wasm threads (default: the number of cores). */
  wasmThreads?: number
}

export async function selectBackend(opts: SelectOptions = {}): Promise<BackendInfo> {
  const force = opts.force ?? parseBackendName(process.env.SCORE_LAB_BACKEND)
  const order: BackendName[] = force ? [force] : [...BACKEND_NAMES]
  const attempts: BackendAttempt[] = []
  for (const name of order) {
    const attempt = await tryBackend(name, opts, Boolean(force))
    attempts.push(attempt.result)
    if (attempt.result.ok) {
      return { name, device: attempt.device, forced: Boolean(force), attempts }
    }
  }
  const why = attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')
  throw new Error(`No TensorFlow.js backend could be loaded (${why}).`)
}

interface TryResult {
  result: BackendAttempt
  device: string
}

async function tryBackend(name: BackendName, opts: SelectOptions, forced: boolean): Promise<TryResult> {
  try {
    switch (name) {
      case 'tensorflow':
        return await tryTensorflow()
      case 'webgpu':
        return await tryWebgpu(opts, forced)
      case 'native':
        return await tryNative(opts)
      case 'wasm': {
        const r = await tryWasm(opts)
        useNativeKernels(false)
        return r
      }
      case 'cpu':
        await setBackendOrThrow('cpu')
        return { result: { name, ok: true }, device: `CPU (pure JavaScript, 1 thread)` }
    }
  } catch (err) {
    return { result: { name, ok: false, ...explain(name, err) }, device: '' }
  }
}

async function setBackendOrThrow(name: string): Promise<void> {
  const ok = await tf.setBackend(name)
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`)
  await tf.ready()
}

async function tryTensorflow(): Promise<TryResult> {
  let pkg = '@tensorflow/tfjs-node-gpu'
  try {
    require.resolve(pkg)
  } catch {
    pkg = '@tensorflow/tfjs-node'
    require.resolve(pkg) // throws MODULE_NOT_FOUND: explained below
  }
  require(pkg)
  await setBackendOrThrow('tensorflow')
  const gpu = pkg.endsWith('-gpu')
  return { result: { name: 'tensorflow', ok: true }, device: gpu ? 'CUDA GPU (libtensorflow)' : 'CPU (libtensorflow)' }
}

async function tryWebgpu(opts: SelectOptions, forced: boolean): Promise<TryResult> {
  const g = globalThis as unknown as { navigator?: { gpu?: GpuLike } }
  if (process.platform === 'linux' && !vulkanLoaderPresent()) throw new NoVulkanLoaderError()
  if (!g.navigator?.gpu) {
    // Dawn for Node ships prebuilt in the `webgpu` package.
    const webgpu = require('webgpu') as { create: (flags: string[]) => GpuLike; globals: object }
    Object.assign(globalThis, webgpu.globals)
    const nav = (g.navigator ?? {}) as { gpu?: GpuLike }
    nav.gpu = webgpu.create([])
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true })
  }
  const adapter = await g.navigator!.gpu!.requestAdapter()
  if (!adapter) throw new NoAdapterError()
  const info = adapter.info ?? {}
  const label = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ').trim() || 'WebGPU adapter'
  const software = Boolean(adapter.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe/i.test(label)
  if (software && !(opts.allowSoftwareWebgpu || forced)) throw new SoftwareAdapterError(label)
  await import('@tensorflow/tfjs-backend-webgpu')
  await setBackendOrThrow('webgpu')
  // Score Lab's own kernels (webgpu/kernels.ts) only after they match the stock ones on this
  // adapter: a driver that miscompiles a shader falls back to tfjs' kernels, and says so.
  const check = await kernelSelfCheck(useWebgpuKernels)
  if (check.ok) return { result: { name: 'webgpu', ok: true }, device: `${label} (WebGPU, Score Lab kernels)` }
  useWebgpuKernels(false)
  const note = `Score Lab's WebGPU kernels disagree with tfjs-webgpu's on a small training step on this adapter (relative error ${check.worst.toExponential(1)} > ${SELF_CHECK_BOUND}), so the stock tfjs kernels are used`
  return { result: { name: 'webgpu', ok: true, note }, device: `${label} (WebGPU, stock tfjs kernels)` }
}

async function tryWasm(opts: SelectOptions): Promise<TryResult> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep
  wasm.setWasmPaths(dist)
  // One thread unless asked (opts.wasmThreads or SCORE_LAB_WASM_THREADS): on a shared 2-core
  // machine (CI, tests running in parallel) the threaded build measured slower, see bench/README.
  const envThreads = process.env.SCORE_LAB_WASM_THREADS ? Number(process.env.SCORE_LAB_WASM_THREADS) : undefined
  if (envThreads !== undefined && !(Number.isInteger(envThreads) && envThreads >= 1)) {
    throw new Error(`SCORE_LAB_WASM_THREADS must be a whole number of threads (1 or more), got "${process.env.SCORE_LAB_WASM_THREADS}"`)
  }
  const threads = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, Math.floor(opts.wasmThreads ?? envThreads ?? 1)))
  registerWasmTrainingKernels()
  let note = ''
  if (!tf.findBackend('wasm')) {
    // Node: the threaded build needs the workarounds in wasm-threads.ts; one thread if they fail.
    wasm.setThreadsCount(threads)
    const restore = prepareNodeWasmThreads(threads)
    let ok = false
    try {
      ok = await tf.setBackend('wasm')
    } catch {
      ok = false
    } finally {
      restore()
    }
    if (!ok && threads > 1) {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)
      wasm.setThreadsCount(1)
      note = `; ${threads} threads failed to start, using 1`
    }
  }
  await setBackendOrThrow('wasm')
  unrefWasmThreadWorkers()
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')
  const actual = wasm.getThreadsCount()
  return {
    result: { name: 'wasm', ok: true },
    device: `CPU (WebAssembly${simd ? ' SIMD' : ''}, ${actual} thread${actual === 1 ? '' : 's'}${note})`
  }
}

class NativeUnavailableError extends Error {}

async function tryNative(opts: SelectOptions): Promise<TryResult> {
  const status = nativeStatus()
  if (!status.available) throw new NativeUnavailableError(status.reason)
  const base = await tryWasm(opts)
  if (!useNativeKernels(true)) throw new NativeUnavailableError(nativeStatus().reason)
  const check = await nativeSelfCheck()
  if (!check.ok) {
    useNativeKernels(false)
    throw new NativeUnavailableError(`the native kernels disagree with wasm's on a small training step (relative error ${check.worst.toExponential(1)} > ${SELF_CHECK_BOUND}), so they are not used`)
  }
  const wasmPart = base.device.replace(/^CPU \(/, '').replace(/\)$/, '')
  return {
    result: { name: 'native', ok: true },
    device: `CPU (native ${status.kernel} kernels, ${status.threads} thread${status.threads === 1 ? '' : 's'}; other ops ${wasmPart})`
  }
}

interface GpuLike {
  requestAdapter(): Promise<{ info?: Record<string, string>; isFallbackAdapter?: boolean } | null>
}

class NoAdapterError extends Error {}
class NoVulkanLoaderError extends Error {}

/** Dawn needs libvulkan.so.1 on Linux; checking first avoids loading Dawn only to fail noisily. */
function vulkanLoaderPresent(): boolean {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu']
  return dirs.some((d) => existsSync(path.join(d, 'libvulkan.so.1')))
}
class SoftwareAdapterError extends Error {
  constructor(readonly label: string) {
    super(label)
  }
}

/** Turns a load failure into a reason and a fix, for the most common causes users report. */
export function explain(name: BackendName, err: unknown): { reason: string; fix?: string } {
  const msg = err instanceof Error ? err.message : String(err)
  if (name === 'tensorflow') {
    if (/Cannot find module|MODULE_NOT_FOUND/.test(msg)) {
      return {
        reason: '@tensorflow/tfjs-node-gpu is not installed (its install step downloads libtensorflow, which needs the internet)',
        fix: 'With internet access and CUDA 11.2 + cuDNN 8.1 installed: npm install @tensorflow/tfjs-node-gpu@4.22.0 (or @tensorflow/tfjs-node@4.22.0 for CPU-only libtensorflow)'
      }
    }
    const lib = /lib(cudart|cublas|cufft|curand|cusolver|cusparse|cudnn)[^\s:'"]*/.exec(msg)
    if (lib) {
      return {
        reason: `${lib[0]} could not be loaded: tfjs-node-gpu 4.x needs CUDA 11.2 and cuDNN 8.1 exactly`,
        fix: 'Install CUDA 11.2 and cuDNN 8.1 and add their lib64 folders to LD_LIBRARY_PATH (check with: ldconfig -p | grep -E "cudart|cudnn"), or use @tensorflow/tfjs-node for CPU'
      }
    }
    return { reason: `libtensorflow failed to load: ${firstLine(msg)}` }
  }
  if (name === 'webgpu') {
    if (err instanceof NoVulkanLoaderError) {
      return {
        reason: 'the Vulkan loader (libvulkan.so.1) is not installed, so WebGPU cannot reach a GPU',
        fix: 'apt-get install libvulkan1 plus your GPU\'s Vulkan driver (mesa-vulkan-drivers or the vendor driver); check with: vulkaninfo --summary'
      }
    }
    if (err instanceof NoAdapterError) {
      return {
        reason: 'no WebGPU adapter was found (no Vulkan/Metal/D3D12 driver for a GPU)',
        fix: 'Install your GPU\'s Vulkan driver (Linux: mesa-vulkan-drivers or the vendor driver; check with: vulkaninfo --summary)'
      }
    }
    if (err instanceof SoftwareAdapterError) {
      return { reason: `only a software adapter was found (${err.label}); it is correct but slower than the CPU backends` }
    }
    if (/Cannot find module|MODULE_NOT_FOUND/.test(msg)) {
      return { reason: 'the optional package "webgpu" (Dawn for Node) is not installed', fix: 'npm install webgpu' }
    }
    return { reason: `WebGPU failed to start: ${firstLine(msg)}` }
  }
  if (name === 'native' && err instanceof NativeUnavailableError) {
    return { reason: msg, fix: NATIVE_BUILD_HINT }
  }
  return { reason: `${name} backend failed to start: ${firstLine(msg)}` }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 300)
}
