// A run's likelihood curve: the bits/dim measured of its checkpoints, one LikelihoodPoint per line
// of runs/<id>/likelihood.jsonl (run-layout.ts owns the path; the likelihood job appends).
import { LikelihoodPointSchema, type LikelihoodPoint } from '../../shared/contract'
import { readJsonLines } from './jsonl'

/** Oldest step first (points of one step in the order measured); torn or foreign lines skipped. */
export function readLikelihoods(file: string): LikelihoodPoint[] {
  return readJsonLines(file, LikelihoodPointSchema).sort((a, b) => a.step - b.step || a.time - b.time)
}
