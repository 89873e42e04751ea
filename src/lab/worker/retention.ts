// Which checkpoints to keep: the newest `keepLast`, plus the lowest-loss one when keepBest.
import type { CheckpointInfo } from '../../shared/contract'

export function retain(all: CheckpointInfo[], opts: { keepLast: number; keepBest: boolean }): { keep: CheckpointInfo[]; drop: CheckpointInfo[] } {
  const byStep = [...all].sort((a, b) => a.step - b.step)
  const keepFiles = new Set(byStep.slice(-opts.keepLast).map((c) => c.file))
  const finite = byStep.filter((c) => c.loss !== null && Number.isFinite(c.loss))
  const best = finite.length ? finite.reduce((a, b) => (b.loss! < a.loss! ? b : a)) : null
  if (opts.keepBest && best) keepFiles.add(best.file)
  const keep = byStep.filter((c) => keepFiles.has(c.file)).map((c) => ({ ...c, best: best !== null && c.file === best.file }))
  const drop = byStep.filter((c) => !keepFiles.has(c.file))
  return { keep, drop }
}
