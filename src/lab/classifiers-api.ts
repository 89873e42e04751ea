// The feature classifiers' procedures: list the stored ones, train one as a job.
import { isLiveJobState } from '../shared/contract'
import { HandlerError, type Handlers } from './dispatch'
import type { JobManager } from './jobs/manager'
import type { DatasetStore } from './datasets/store'
import { isImageDatasetName } from './datasets/registry'
import { listClassifiers } from './classifiers'
import type { RunStore } from './runs/store'

type ClassifierHandlers = Pick<Handlers, 'classifiers.list' | 'classifiers.train' | 'classifiers.trainGuidance'>

export function classifierHandlers(datasets: DatasetStore, jobs: JobManager, dataDir: string, backend: string | undefined, runs: RunStore): ClassifierHandlers {
  const requireSet = async (dataset: string) => {
    const listing = (await datasets.list()).find((d) => d.name === dataset)
    if (listing?.state !== 'verified') throw new HandlerError({ code: 'conflict', message: `${listing?.title ?? dataset} is not in the data folder (${listing?.state ?? 'unknown'}); get it in Datasets (or score-lab datasets get ${dataset}) first.` })
  }
  const oneAtATime = () => {
    const running = jobs.list().find((j) => j.kind === 'classifier' && isLiveJobState(j.state))
    if (running) throw new HandlerError({ code: 'conflict', message: `A classifier is already training (job ${running.id}); wait for it or cancel it.` })
  }
  return {
    'classifiers.trainGuidance': async ({ runId, steps, seed }) => {
      const { config } = runs.get(runId) // not_found for an unknown run
      if (!isImageDatasetName(config.dataset)) throw new HandlerError({ code: 'bad_request', message: `Run ${runId} is a 2-D toy run: toy-gmm's classes are guided by its exact classifier, with nothing to train.` })
      if (config.conditional) throw new HandlerError({ code: 'bad_request', message: `Run ${runId} is class-conditional: it samples a class by classifier-free guidance, with no classifier.` })
      await requireSet(config.dataset)
      oneAtATime()
      return { jobId: jobs.submit({ kind: 'classifier', runId: null, dataDir, dataset: config.dataset, steps, seed, backend, guidanceFor: runId }).id }
    },
    'classifiers.list': async () => listClassifiers(dataDir),
    'classifiers.train': async ({ dataset, steps, seed }) => {
      if (!isImageDatasetName(dataset)) throw new HandlerError({ code: 'bad_request', message: `"${dataset}" is not an image data set: 2-D toy sets are measured against their true distribution, with no classifier.` })
      await requireSet(dataset)
      oneAtATime()
      return { jobId: jobs.submit({ kind: 'classifier', runId: null, dataDir, dataset, steps, seed, backend }).id }
    }
  }
}
