// Loss per time bucket: 10 equal bins of t over [0, T], so the UI can show where in time
// the model is weak (small t: fine detail; large t: global structure).

export const DEFAULT_BUCKETS = 10

/** Index of t's bucket (t = T goes into the last bucket). */
export function bucketOf(t: number, T = 1, bins = DEFAULT_BUCKETS): number {
  return Math.min(bins - 1, Math.max(0, Math.floor((t / T) * bins)))
}

/** Sums and counts per bucket for one batch. */
export function bucketSums(perSample: ArrayLike<number>, t: ArrayLike<number>, T = 1, bins = DEFAULT_BUCKETS) {
  const sums = new Array<number>(bins).fill(0)
  const counts = new Array<number>(bins).fill(0)
  for (let i = 0; i < perSample.length; i++) {
    const b = bucketOf(t[i], T, bins)
    sums[b] += perSample[i]
    counts[b]++
  }
  return { sums, counts }
}

/** Mean per bucket for one batch; NaN where a bucket got no sample. */
export function bucketMeans(perSample: ArrayLike<number>, t: ArrayLike<number>, T = 1, bins = DEFAULT_BUCKETS): number[] {
  const { sums, counts } = bucketSums(perSample, t, T, bins)
  return sums.map((s, i) => (counts[i] ? s / counts[i] : NaN))
}

/** Running per-bucket means over many steps (e.g. one epoch, or since the last log line). */
export class TimeBucketAccumulator {
  private sums: number[]
  private counts: number[]

  constructor(
    readonly T = 1,
    readonly bins = DEFAULT_BUCKETS
  ) {
    this.sums = new Array<number>(bins).fill(0)
    this.counts = new Array<number>(bins).fill(0)
  }

  add(perSample: ArrayLike<number>, t: ArrayLike<number>): void {
    const b = bucketSums(perSample, t, this.T, this.bins)
    for (let i = 0; i < this.bins; i++) {
      this.sums[i] += b.sums[i]
      this.counts[i] += b.counts[i]
    }
  }

  means(): number[] {
    return this.sums.map((s, i) => (this.counts[i] ? s / this.counts[i] : NaN))
  }

  count(): number[] {
    return [...this.counts]
  }

  reset(): void {
    this.sums.fill(0)
    this.counts.fill(0)
  }
}
