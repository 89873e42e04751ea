// score-lab train-classifier: a data set's feature classifier, for quality numbers of image samples.
import { resultOf } from '../../shared/contract'
import { ProgressLine } from '../progress'
import { UsageError, int, waitForJob, type Cli } from '../context'

export async function trainClassifierCommand(cli: Cli, f: { dataset?: string; steps?: string; seed?: string }): Promise<number> {
  if (!f.dataset) throw new UsageError('--dataset NAME is required (mnist, fashion-mnist or cifar10)')
  const { jobId } = await cli.call('classifiers.train', { dataset: f.dataset, steps: int('steps', f.steps), seed: int('seed', f.seed) })
  const bar = new ProgressLine('classifier')
  const end = await waitForJob(cli, jobId, (fraction, eta, rate) => bar.update(fraction, rate ? `${rate.toFixed(1)} steps/s` : '', eta))
  bar.done()
  if (end.state !== 'finished') throw new UsageError(end.error ?? `the classifier job ${end.state}`)
  const info = resultOf(cli.service.jobs.get(jobId), 'classifier')
  if (!info) throw new Error('the classifier job finished without its result')
  const { kind: _kind, ...out } = info
  cli.result(out, `${f.dataset} classifier: ${info.testAccuracy === null ? '—' : (info.testAccuracy * 100).toFixed(1)} % test accuracy after ${info.steps} steps (${info.trainSeconds?.toFixed(0) ?? '—'} s)`)
  return 0
}
