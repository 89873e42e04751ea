// Deterministic test data and the error measure the kernel-parity tests share.
import { expect } from 'vitest'

/** Normal samples offset + scale·N(0, 1) from a 32-bit LCG through Box–Muller (same seed → same values). */
export function randn(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  let s = seed >>> 0
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296
  return Float32Array.from({ length: n }, () => offset + scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()))
}

/** ‖a − b‖ / ‖b‖ (‖a − b‖ when b is all zeros); the lengths must match. */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let num = 0
  let den = 0
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2
    den += b[i]! ** 2
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den)
}
