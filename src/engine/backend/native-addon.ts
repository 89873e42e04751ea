// Loads Score Lab's native kernels (native/: C++ N-API addon, built by `npm install` through
// scripts/build-native.mjs). Optional: when the addon is missing or fails to load, the reason is
// kept so the backend report can say why and how to build it.
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)

export interface NativeAddon {
  conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, geom: Int32Array): void
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geom: Int32Array): void
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geom: Int32Array): void
  groupNormForward(
    x: Float32Array, bias: Float32Array | null, gamma: Float32Array, beta: Float32Array,
    y: Float32Array, mean: Float32Array, rstd: Float32Array, geom: Int32Array, eps: number
  ): void
  groupNormBackward(
    dy: Float32Array, x: Float32Array, bias: Float32Array | null, gamma: Float32Array, beta: Float32Array,
    mean: Float32Array, rstd: Float32Array, dx: Float32Array, dbias: Float32Array | null,
    dgamma: Float32Array, dbeta: Float32Array, geom: Int32Array, eps: number
  ): void
  /** dst[o·dS + dO + i] = src[o·sS + sO + i] for o < outer, i < len; geom = [outer, sS, sO, dS, dO, len]. */
  copyBlocks(src: Float32Array, dst: Float32Array, geom: Int32Array): void
  info(): { kernel: string; threads: number }
  setThreads(n: number): void
}

export const NATIVE_BUILD_HINT = 'npm run build:native (needs python3, make and a C++ compiler; Debian: apt-get install python3 make g++)'

const FILE = path.join('native', 'build', 'Release', 'score_lab_native.node')

/** The addon's path: SCORE_LAB_NATIVE_PATH, else native/build/Release above this module (source or bundle). */
export function nativeAddonPath(): string | null {
  if (process.env.SCORE_LAB_NATIVE_PATH) return process.env.SCORE_LAB_NATIVE_PATH
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, FILE)
    if (existsSync(candidate)) return candidate
    dir = path.dirname(dir)
  }
  return null
}

let cached: { addon: NativeAddon | null; reason: string } | null = null

/** The addon, or null with the reason it is unavailable. SCORE_LAB_NATIVE=0 turns it off. */
export function loadNativeAddon(): { addon: NativeAddon | null; reason: string } {
  if (cached) return cached
  if (process.env.SCORE_LAB_NATIVE === '0') return (cached = { addon: null, reason: 'turned off by SCORE_LAB_NATIVE=0' })
  const file = nativeAddonPath()
  if (!file) return (cached = { addon: null, reason: 'the native kernels are not built (native/build/Release/score_lab_native.node is missing)' })
  try {
    const addon = require(file) as NativeAddon
    const threads = process.env.SCORE_LAB_NATIVE_THREADS
    if (threads !== undefined && threads !== '') {
      const n = Number(threads)
      if (!Number.isInteger(n) || n < 1) throw new Error(`SCORE_LAB_NATIVE_THREADS must be a whole number of threads (1 or more), got "${threads}"`)
      addon.setThreads(n)
    }
    return (cached = { addon, reason: '' })
  } catch (err) {
    return (cached = { addon: null, reason: `the native kernels failed to load: ${(err as Error).message.split('\n')[0]}` })
  }
}
