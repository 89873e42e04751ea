import { unknownName } from '../registry'

/**
 * Backends in rank order: the order they are tried and listed in. Where more than one loads, the
 * fastest measured wins (select.ts); rank only breaks ties and orders the report. `tensorflow`
 * is libtensorflow through tfjs-node(-gpu); `native` is the wasm backend with Score Lab's C++
 * kernels (native/) for convolutions and GroupNorm.
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
  /** Median milliseconds of the measured training step (select.ts, measure.ts), where it was measured. */
  stepMs?: number
}

/** The step-time measurement behind a choice among several working backends. */
export interface BackendTiming {
  /** When the backends were measured (ISO time). */
  measuredAt: string
  /** True when the times were read from the kept timings rather than measured at this start. */
  cached: boolean
  /** The machine fingerprint's key the times are kept under (forget it to measure again). */
  key: string
  /** The file the times are kept in; absent when none was given (measured at every start). */
  file?: string
  /** Something worth knowing about the kept timings, e.g. that a damaged file was rewritten. */
  note?: string
}

export interface BackendInfo {
  /** The backend in use. */
  name: BackendName
  /** Human-readable device, e.g. the GPU adapter name or "CPU (WebAssembly SIMD, 2 threads)". */
  device: string
  /** True when SCORE_LAB_BACKEND or a setting forced this backend. */
  forced: boolean
  /** Every backend that was tried, in rank order, with the reason each other one is not in use. */
  attempts: BackendAttempt[]
  /** Why this one: forced, the only one that loads, or the fastest measured (with the times). */
  choice?: string
  /** The measurement, where several backends loaded and were timed. */
  timing?: BackendTiming
}
