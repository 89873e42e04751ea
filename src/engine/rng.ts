// Seeded, serialisable random numbers for the engine. All randomness in a run (time draws,
// noise, batch order, weight init) flows from one Rng, so saving getState() in a checkpoint
// and setState() on resume replays exactly the same stream.
// Generator: xoshiro128** (Blackman & Vigna), 4×uint32 state, seeded through splitmix32.
// Integer seeds handed to tf.randomNormal/randomUniform are drawn from it, so tfjs's own
// (seedrandom) generator is deterministic too and needs no state of its own.

export interface RngState {
  kind: 'xoshiro128**'
  s: [number, number, number, number]
}

export class Rng {
  private s: Uint32Array

  constructor(seed: number | RngState = 0) {
    this.s = new Uint32Array(4)
    if (typeof seed === 'number') this.seed(seed)
    else this.setState(seed)
  }

  /** Re-seeds from any finite number (the integer part and the sign are used). */
  seed(seed: number): void {
    if (!Number.isFinite(seed)) throw new Error(`Rng seed must be a finite number, got ${seed}`)
    // splitmix32 spreads even tiny seeds (0, 1, 2) over the whole state, never all-zero.
    let x = (Math.trunc(seed) ^ (Math.trunc(seed / 2 ** 32) * 0x9e3779b1)) >>> 0
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0
      let z = x
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      this.s[i] = (z ^ (z >>> 16)) >>> 0
    }
    if (this.s[0] === 0 && this.s[1] === 0 && this.s[2] === 0 && this.s[3] === 0) this.s[0] = 1
  }

  /** Next uniformly distributed uint32. */
  nextUint32(): number {
    const s = this.s
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0
    const t = (s[1] << 9) >>> 0
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 11)
    return result
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextUint32() >>> 5 // 27 bits
    const lo = this.nextUint32() >>> 6 // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** Standard normal (Box–Muller; one value per call so the state stays simple). */
  normal(): number {
    let u = this.float()
    while (u === 0) u = this.float()
    const v = this.float()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** Integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new Error(`Rng.int needs n >= 1, got ${n}`)
    return Math.floor(this.float() * n)
  }

  /** A non-negative integer seed (< 2^31) for tf.randomNormal / tf.randomUniform. */
  nextSeed(): number {
    return this.nextUint32() >>> 1
  }

  /** An independent child generator (e.g. one per data loader), derived from this stream. */
  fork(): Rng {
    return new Rng(this.nextUint32() * 2 ** 21 + (this.nextUint32() >>> 11))
  }

  getState(): RngState {
    return { kind: 'xoshiro128**', s: [this.s[0], this.s[1], this.s[2], this.s[3]] }
  }

  setState(state: RngState): void {
    if (state?.kind !== 'xoshiro128**' || !Array.isArray(state.s) || state.s.length !== 4) {
      throw new Error(`Not an Rng state: ${JSON.stringify(state)}`)
    }
    for (let i = 0; i < 4; i++) {
      const v = state.s[i]
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`Rng state word ${i} is not a uint32: ${v}`)
      this.s[i] = v
    }
    if (this.s.every((w) => w === 0)) throw new Error('Rng state is all zeros (xoshiro would only produce zeros)')
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
