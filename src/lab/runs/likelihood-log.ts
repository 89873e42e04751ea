// A run's likelihood curve: the bits/dim measured of its checkpoints, one LikelihoodPoint per line
// of runs/<id>/likelihood.jsonl (run-layout.ts owns the path; the likelihood job appends).
// Reading skips torn or foreign lines rather than failing the curve.
import fs from 'node:fs'
import { LikelihoodPointSchema, type LikelihoodPoint } from '../../shared/contract'

export function readLikelihoods(file: string): LikelihoodPoint[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return []
  }
  const out: LikelihoodPoint[] = []
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    try {
      const p = LikelihoodPointSchema.safeParse(JSON.parse(line))
      if (p.success) out.push(p.data)
    } catch {
      // torn line
    }
  }
  return out.sort((a, b) => a.step - b.step || a.time - b.time)
}
