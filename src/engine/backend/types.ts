import { unknownName } from '../registry'

/**
 * Backends in the order Score Lab prefers them. `tensorflow` is libtensorflow through
 * tfjs-node(-gpu); `native` is the wasm backend with Score Lab's C++ kernels (native/) for
 * convolutions and GroupNorm.
 */
export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'native', 'wasm', 'cpu'] as const
export type BackendName = (typeof BACKEND_NAMES)[number]

/** A backend name from a flag or SCORE_LAB_BACKEND; undefined when unset; an error naming the choices otherwise. */
export function parseBackendName(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName
  throw unknownName('backend', value, BACKEND_NAMES)
}

/** What happened when one backend was tried, in words a researcher can act on. */
export interface BackendAttempt {
  name: BackendName
  ok: boolean
  /** Why it was not used (absent when it was used). */
  reason?: string
  /** The exact step that would make it work, when there is one. */
  fix?: string
  /** For the backend in use: a fact worth knowing, e.g. that its own kernels failed their self-check. */
  note?: string
}

export interface BackendInfo {
  /** The backend in use. */
  name: BackendName
  /** Human-readable device, e.g. the GPU adapter name or "CPU (WebAssembly SIMD, 2 threads)". */
  device: string
  /** True when SCORE_LAB_BACKEND or a setting forced this backend. */
  forced: boolean
  /** Every backend that was tried, in order, with the reason the earlier ones were skipped. */
  attempts: BackendAttempt[]
}
