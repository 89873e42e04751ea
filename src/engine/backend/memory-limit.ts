// How much tensor memory a backend can hold, where there is a hard limit to check against.
import os from 'node:os'
import type { BackendName } from './types'

/** WebAssembly memory is 32-bit: the wasm and native backends' heap stops at 4 GiB. */
const WASM_HEAP_BYTES = 2 ** 32
/** Kept free for fragmentation and the kernels' own scratch. */
const HEADROOM = 0.85

/** Usable bytes for tensors on `backend`, or null where the limit is the GPU's and unknown here. */
export function usableMemoryBytes(backend: BackendName): number | null {
  if (backend === 'native' || backend === 'wasm') return Math.floor(WASM_HEAP_BYTES * HEADROOM)
  if (backend === 'cpu') return Math.floor(os.totalmem() * HEADROOM)
  return null
}
