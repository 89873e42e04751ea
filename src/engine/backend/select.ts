// Chooses the TensorFlow.js backend at start. Every backend that can run here is loaded, in rank
// order: libtensorflow (CUDA or CPU) → WebGPU on a real adapter → native (wasm + Score Lab's C++
// kernels) → wasm (SIMD); pure-JS cpu only when none of them loads. Where more than one loads,
// one small training step is timed on each (measure.ts) and the fastest wins: rank alone would
// let an integrated GPU slower than the CPU kernels win. The times are kept per machine
// (timings-cache.ts), so later starts and every job's worker thread make the same choice without
// measuring again. SCORE_LAB_BACKEND forces one (no measurement).
// Every backend not in use records a reason and, where there is one, the exact fix, so the
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
import { useWebgpuKernels, webgpuKernelsActive } from './webgpu/kernels'
import { NATIVE_BUILD_HINT } from './native-addon'
import { measureTrainingStep } from './measure'
import { keepTimings, machineFingerprint, readTimings, type TimingsEntry } from './timings-cache'

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
  /**
   * The JSON file that keeps the measured step times per machine (the lab passes one in its data
   * folder); default SCORE_LAB_BACKEND_TIMINGS. Without one, the backends are measured at every call.
   */
  timingsFile?: string
}

/** Backends that take part in the measurement; pure-JS cpu is only the last resort. */
const MEASURED: readonly BackendName[] = BACKEND_NAMES.filter((n) => n !== 'cpu')

interface Loaded {
  name: BackendName
  device: string
  attempt: BackendAttempt
  /** Makes this backend (with the kernels it loaded with) the active one again. */
  activate: () => Promise<void>
}

export async function selectBackend(opts: SelectOptions = {}): Promise<BackendInfo> {
  const force = opts.force ?? parseBackendName(process.env.SCORE_LAB_BACKEND)
  if (force) {
    const attempt = await tryBackend(force, opts, true)
    if (!attempt.result.ok) throw new Error(`No TensorFlow.js backend could be loaded (${force}: ${attempt.result.reason}).`)
    return { name: force, device: attempt.device, forced: true, attempts: [attempt.result], choice: 'forced (--backend or SCORE_LAB_BACKEND), so nothing was measured' }
  }
  const attempts: BackendAttempt[] = []
  const loaded: Loaded[] = []
  for (const name of MEASURED) {
    const attempt = await tryBackend(name, opts, false)
    attempts.push(attempt.result)
    if (attempt.result.ok) loaded.push({ name, device: attempt.device, attempt: attempt.result, activate: activator(name) })
  }
  if (loaded.length === 1) {
    const only = loaded[0]!
    await only.activate()
    return { name: only.name, device: only.device, forced: false, attempts, choice: `${only.name} is the only backend that loads here, so nothing was measured` }
  }
  if (loaded.length > 1) {
    const chosen = await chooseFastest(loaded, opts.timingsFile ?? (process.env.SCORE_LAB_BACKEND_TIMINGS || undefined))
    if (chosen) return { ...chosen, attempts }
  }
  // Nothing else loads (or every measured step failed): the pure-JS kernels always work.
  const cpu = await tryBackend('cpu', opts, false)
  attempts.push(cpu.result)
  if (cpu.result.ok) return { name: 'cpu', device: cpu.device, forced: false, attempts, choice: 'no faster backend works here, so the pure-JavaScript kernels are used' }
  const why = attempts.filter((a) => !a.ok || a.reason).map((a) => `${a.name}: ${a.reason}`).join('; ')
  throw new Error(`No TensorFlow.js backend could be loaded (${why}).`)
}

/** Rebinds a backend that loaded earlier in this process, with the same kernel set. */
function activator(name: BackendName): () => Promise<void> {
  switch (name) {
    case 'native':
      return async () => {
        await setBackendOrThrow('wasm')
        if (!useNativeKernels(true)) throw new NativeUnavailableError(nativeStatus().reason)
      }
    case 'wasm':
      return async () => {
        await setBackendOrThrow('wasm')
        useNativeKernels(false)
      }
    case 'webgpu': {
      // Read now, right after tryWebgpu: whether our kernels passed its self-check.
      const own = webgpuKernelsActive()
      return async () => {
        await setBackendOrThrow('webgpu')
        useWebgpuKernels(own)
      }
    }
    default:
      return () => setBackendOrThrow(name)
  }
}

const ms = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`

/** CPU backends are measured first: quick and predictable, their time bounds how long a GPU may take. */
const MEASURE_ORDER: readonly BackendName[] = ['native', 'wasm', 'tensorflow', 'webgpu', 'cpu']
/**
 * How long one backend's measurement may run: 50× the best time so far (at least 10 s, which
 * leaves a real GPU's first-step shader compilation room), else a minute. A backend still busy
 * then is slower than the fastest by far and could not win.
 */
const deadlineAfter = (best: number) => (Number.isFinite(best) ? Math.max(10_000, 50 * best) : 60_000)

/**
 * Times the loaded backends (or reads their kept times), activates the fastest and fills each
 * attempt's stepMs and, for the others, why they are not in use. Null when every step failed.
 */
async function chooseFastest(loaded: Loaded[], file: string | undefined): Promise<Omit<BackendInfo, 'attempts'> | null> {
  const { key, fingerprint } = machineFingerprint(loaded)
  let entry: TimingsEntry | undefined
  let note: string | undefined
  if (file) {
    const kept = readTimings(file)
    note = kept.note
    const found = kept.entries[key]
    if (found && loaded.every((l) => found.stepMs[l.name] !== undefined || found.failed?.[l.name] !== undefined)) entry = found
    else if (!note && Object.keys(kept.entries).length > 0) {
      note = 'the kept backend timings are for another setup (CPU, GPU adapter or driver, native build or versions changed), so the backends were measured again'
    }
  }
  const cached = entry !== undefined
  if (!entry) {
    entry = { fingerprint, measuredAt: new Date().toISOString(), stepMs: {}, failed: {} }
    let fastestSoFar = Infinity
    for (const l of [...loaded].sort((a, b) => MEASURE_ORDER.indexOf(a.name) - MEASURE_ORDER.indexOf(b.name))) {
      try {
        await l.activate()
        const step = await measureTrainingStep(deadlineAfter(fastestSoFar))
        entry.stepMs[l.name] = step.ms
        if (step.finished) fastestSoFar = Math.min(fastestSoFar, step.ms)
        else (entry.unfinished ??= {})[l.name] = true
      } catch (err) {
        entry.failed![l.name] = firstLine(err instanceof Error ? err.message : String(err))
      }
    }
    if (file) {
      try {
        keepTimings(file, key, entry)
      } catch (err) {
        note = [note, `the timings could not be kept in ${file} (${firstLine((err as Error).message)}), so the next start measures again`].filter(Boolean).join('; ')
      }
    }
  }
  const over = (name: BackendName) => `${entry.unfinished?.[name] ? 'over ' : ''}${ms(entry.stepMs[name]!)}`
  const timed = loaded
    .filter((l) => entry.stepMs[l.name] !== undefined)
    .sort((a, b) => entry.stepMs[a.name]! - entry.stepMs[b.name]! || BACKEND_NAMES.indexOf(a.name) - BACKEND_NAMES.indexOf(b.name))
  for (const l of loaded) {
    const failed = entry.failed?.[l.name]
    if (failed !== undefined) Object.assign(l.attempt, { ok: false, reason: `it loaded, but a small training step failed on it: ${failed}` })
  }
  const winner = timed[0]
  if (!winner) return null
  await winner.activate()
  const best = entry.stepMs[winner.name]!
  for (const l of timed) {
    l.attempt.stepMs = entry.stepMs[l.name]
    if (l !== winner) l.attempt.reason = `slower here: ${over(l.name)} per training step vs ${winner.name}'s ${ms(best)}`
  }
  const others = timed.slice(1).map((l) => `${l.name} ${over(l.name)}`).join(', ')
  const when = cached ? ` (kept from ${entry.measuredAt.slice(0, 10)})` : ''
  return {
    name: winner.name,
    device: winner.device,
    forced: false,
    choice: others ? `fastest measured${when}: ${winner.name} ${ms(best)} vs ${others} per training step` : `${winner.name}: the only backend whose training step ran (${ms(best)})`,
    timing: { measuredAt: entry.measuredAt, cached, key, ...(file ? { file } : {}), ...(note ? { note } : {}) }
  }
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
