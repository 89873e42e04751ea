// The lab's ids and file-name time stamps, written once. Ids sort by creation time (their stamp
// comes first) and carry a few random hex digits so two made in the same second differ. Uses the
// Web Crypto global (Node ≥ 19 and browsers) so the renderer may use it too.

/** `20261130-201500`: UTC, second resolution, safe in file names on every OS. */
export function compactStamp(at: Date = new Date()): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')
}

/** `2026-11-30T20-15-00-123Z`: a full ISO time with the characters Windows forbids replaced, for names of kept-aside files. */
export function fileStamp(at: Date = new Date()): string {
  return at.toISOString().replace(/[:.]/g, '-')
}

/** `bytes` random bytes as hex. */
export function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes)
  globalThis.crypto.getRandomValues(b)
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}

/** A run's folder name: `<stamp>-<dataset>-<6 hex>`. */
export function newRunId(dataset: string, at?: Date): string {
  return `${compactStamp(at)}-${dataset}-${randomHex(3)}`
}

/** A sample's file stem in its run's samples/ folder: `<stamp>-<sampler>-<4 hex>`. */
export function newSampleId(sampler: string, at?: Date): string {
  return `${compactStamp(at)}-${sampler}-${randomHex(2)}`
}

/** A job's id: `job-<ms in base 36>-<6 hex>`. */
export function newJobId(now: number = Date.now()): string {
  return `job-${now.toString(36)}-${randomHex(3)}`
}
