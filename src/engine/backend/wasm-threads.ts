// Threads for the wasm backend in Node. tfjs-backend-wasm 4.22 ships a pthreads build
// (tfjs-backend-wasm-threaded-simd) but reports WASM_HAS_MULTITHREAD_SUPPORT = false in Node
// (tfjs issue #3830), for three reasons this works around while the backend initialises (and
// undoes right after):
//  1. The pthread workers are started from a blob: URL, which worker_threads cannot load, and are
//     told to importScripts() the main script from a Blob. We record the two Blobs' text and
//     hand emscripten real files instead (written once per content hash under the OS temp dir);
//     the worker file is patched to importScripts() the main-script file.
//  2. The main script is the factory's Function.toString() out of the Node bundle, so it refers
//     to bundle-level names (tslib's __read/__values/__spreadArray, commonjsGlobal, require$$N);
//     the file defines them first.
//  3. The C++ side caps the thread count at emscripten_num_logical_cores() / 2 (it assumes
//     hyper-threads), which is os.cpus().length / 2 in Node: 1 on a 2-core machine. os.cpus is
//     made to report 2 × the requested count during initialisation.
// The result is checked (getThreadsCount()); select.ts falls back to one thread if init fails.
// Known limit: the pthread workers inherit the parent's execArgv; a process started with
// `node --input-type=module -e …` makes them fail while the main thread blocks in
// pthreadpool_create, i.e. it hangs. Threads are therefore opt-in (SCORE_LAB_WASM_THREADS=N).
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { tf } from '../tf'

const TSLIB_HELPERS = `var commonjsGlobal = globalThis;
var require$$0 = require("fs"), require$$1 = require("path"), require$$3 = require("perf_hooks"), require$$4 = require("os");
var __values = function (o) { var s = typeof Symbol === "function" && Symbol.iterator, m = s && o[s], i = 0; if (m) return m.call(o); if (o && typeof o.length === "number") return { next: function () { if (o && i >= o.length) o = void 0; return { value: o && o[i++], done: !o }; } }; throw new TypeError(s ? "Object is not iterable." : "Symbol.iterator is not defined."); };
var __read = function (o, n) { var m = typeof Symbol === "function" && o[Symbol.iterator]; if (!m) return o; var i = m.call(o), r, ar = [], e; try { while ((n === void 0 || n-- > 0) && !(r = i.next()).done) ar.push(r.value); } catch (error) { e = { error: error }; } finally { try { if (r && !r.done && (m = i["return"])) m.call(i); } finally { if (e) throw e.error; } } return ar; };
var __spreadArray = function (to, from, pack) { if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) { if (ar || !(i in from)) { if (!ar) ar = Array.prototype.slice.call(from, 0, i); ar[i] = from[i]; } } return to.concat(ar || Array.prototype.slice.call(from)); };
`
const WORKER_LOAD_MAIN =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}'

function writeOnce(file: string, text: string): void {
  if (fs.existsSync(file)) return
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, text)
  fs.renameSync(tmp, file)
}

/**
 * Prepares a Node process so that the next initialisation of the wasm backend uses the threaded
 * build with `threads` threads. Returns a function that undoes the global patches (call it once
 * tf.setBackend('wasm') has settled). A no-op outside Node or when the backend is already up.
 */
export function prepareNodeWasmThreads(threads: number): () => void {
  const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node) && typeof (globalThis as { window?: unknown }).window === 'undefined'
  if (!isNode || threads <= 1 || tf.findBackend('wasm')) return () => {}
  const dir = path.join(os.tmpdir(), `score-lab-tfjs-wasm-${tf.version_core}`)
  fs.mkdirSync(dir, { recursive: true })
  const OrigBlob = globalThis.Blob
  const origCreate = URL.createObjectURL
  const origCpus = os.cpus
  let mainPath = ''
  const blobText = new WeakMap<object, string>()
  class RecordingBlob extends OrigBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options)
      const text = parts && parts.every((p) => typeof p === 'string') ? (parts as string[]).join('') : null
      if (text !== null && text.startsWith('var WasmBackendModuleThreadedSimd')) {
        const body = TSLIB_HELPERS + text
        mainPath = path.join(dir, `threaded-simd.main.${createHash('sha1').update(body).digest('hex').slice(0, 12)}.js`)
        writeOnce(mainPath, body)
      }
      if (text !== null) blobText.set(this, text)
    }
  }
  globalThis.Blob = RecordingBlob as typeof Blob
  URL.createObjectURL = (obj: Blob | MediaSource): string => {
    const text = blobText.get(obj)
    if (text !== undefined && text.includes('WasmBackendModuleThreadedSimd(Module)')) {
      if (!mainPath) throw new Error('wasm threads: the main script Blob was not seen before the worker Blob')
      if (!text.includes(WORKER_LOAD_MAIN)) throw new Error('wasm threads: the pthread worker script of this tfjs version is not the one this patch knows')
      const body = text.replace(WORKER_LOAD_MAIN, `importScripts(${JSON.stringify(mainPath)});`)
      const file = path.join(dir, `threaded-simd.worker.${createHash('sha1').update(body).digest('hex').slice(0, 12)}.js`)
      writeOnce(file, body)
      return file
    }
    return origCreate(obj)
  }
  ;(os as { cpus: typeof os.cpus }).cpus = () => {
    const c = origCpus()
    return Array.from({ length: Math.max(c.length, 2 * threads) }, (_, i) => c[i % c.length]!)
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true)
  return () => {
    globalThis.Blob = OrigBlob
    URL.createObjectURL = origCreate
    ;(os as { cpus: typeof os.cpus }).cpus = origCpus
  }
}

/**
 * The pthreads that XNNPACK's pool keeps blocked in Atomics.wait hold ref'd worker_threads, so a
 * Node process using them would never exit on its own: unref them once the backend is up.
 */
export function unrefWasmThreadWorkers(): void {
  const backend = tf.findBackend('wasm') as unknown as { wasm?: { PThread?: { runningWorkers?: Array<{ unref?: () => void }> } } } | null
  for (const w of backend?.wasm?.PThread?.runningWorkers ?? []) w.unref?.()
}
