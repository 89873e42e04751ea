// score-lab train-classifier: a data set's feature classifier, for quality numbers of image samples,
// or (--for RUN) a run's guidance classifier, which resumes an unfinished training unless --fresh.
import { resultOf } from '../../shared/contract'
import { ProgressLine } from '../progress'
import { UsageError, int, waitForJob, type Cli } from '../context'
import { resolveRunRef } from '../../lab/runs/run-ref'

export async function trainClassifierCommand(cli: Cli, f: { dataset?: string; steps?: string; seed?: string; for?: string; fresh?: boolean }): Promise<number> {
  if (f.fresh && f.for === undefined) throw new UsageError('--fresh goes with --for RUN (a guidance classifier\'s training resumes; a feature classifier\'s always starts afresh)')
  if (f.for !== undefined && f.dataset !== undefined) throw new UsageError('give --dataset (the feature classifier for quality numbers) or --for RUN (that run\'s guidance classifier), not both')
  if (f.for !== undefined) return guidanceClassifier(cli, f.for, f)
  if (!f.dataset) throw new UsageError('--dataset NAME is required (mnist, fashion-mnist or cifar10), or --for RUN for a run\'s guidance classifier')
  const { jobId } = await cli.call('classifiers.train', { dataset: f.dataset, steps: int('steps', f.steps), seed: int('seed', f.seed) })
  const { info, out } = await classifierTrained(cli, jobId, 'classifier')
  cli.result(out, `${f.dataset} classifier: ${info.testAccuracy === null ? '—' : (info.testAccuracy * 100).toFixed(1)} % test accuracy after ${info.steps} steps (${info.trainSeconds?.toFixed(0) ?? '—'} s)`)
  return 0
}

/**
 * --for RUN: the run's noise-conditional classifier, for sample --class K --guidance W on that run.
 * An unfinished training of the same steps and seed resumes (the job says "Resuming … at step
 * K of N"), unless --fresh.
 */
async function guidanceClassifier(cli: Cli, ref: string, f: { steps?: string; seed?: string; fresh?: boolean }): Promise<number> {
  const run = cli.service.runs.get(resolveRunRef(cli.service.runs, ref).runId)
  const { jobId } = await cli.call('classifiers.trainGuidance', { runId: run.id, steps: int('steps', f.steps), seed: int('seed', f.seed), ...(f.fresh ? { fresh: true } : {}) })
  const { info, out } = await classifierTrained(cli, jobId, 'guidance classifier')
  const byTime = info.guidance?.accuracyByTime.map((a) => `${(a.accuracy * 100).toFixed(1)} % at t = ${a.t}`).join(', ') ?? '—'
  cli.result(out, `guidance classifier of ${run.name}: test accuracy ${byTime} after ${info.steps} steps (${info.trainSeconds?.toFixed(0) ?? '—'} s); sample a class with --class K --guidance W`)
  return 0
}

/** Follows a classifier job with a progress bar; its result, or the job's error as a usage error. */
async function classifierTrained(cli: Cli, jobId: string, label: string) {
  const bar = new ProgressLine(label)
  const end = await waitForJob(cli, jobId, (fraction, eta, rate) => bar.update(fraction, rate ? `${rate.toFixed(1)} steps/s` : '', eta))
  bar.done()
  if (end.state !== 'finished') throw new UsageError(end.error ?? `the classifier job ${end.state}`)
  const info = resultOf(cli.service.jobs.get(jobId), 'classifier')
  if (!info) throw new Error('the classifier job finished without its result')
  const { kind: _kind, ...out } = info
  return { info, out }
}
