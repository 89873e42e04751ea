// The feature classifiers' procedures: list the stored ones, train one as a job.
import { isLiveJobState } from '../shared/contract'
import { HandlerError, type Handlers } from './dispatch'
import type { JobManager } from './jobs/manager'
import type { DatasetStore } from './datasets/store'
import { isImageDatasetName } from './datasets/registry'
import { listClassifiers } from './classifiers'

type ClassifierHandlers = Pick<Handlers, 'classifiers.list' | 'classifiers.train'>

export function classifierHandlers(datasets: DatasetStore, jobs: JobManager, dataDir: string, backend: string | undefined): ClassifierHandlers {
  return {
    'classifiers.list': async () => listClassifiers(dataDir),
    'classifiers.train': async ({ dataset, steps, seed }) => {
      if (!isImageDatasetName(dataset)) throw new HandlerError({ code: 'bad_request', message: `"${dataset}" is not an image data set: 2-D toy sets are measured against their true distribution, with no classifier.` })
      const listing = (await datasets.list()).find((d) => d.name === dataset)
      if (listing?.state !== 'verified') throw new HandlerError({ code: 'conflict', message: `${listing?.title ?? dataset} is not in the data folder (${listing?.state ?? 'unknown'}); get it in Datasets (or score-lab datasets get ${dataset}) first.` })
      const running = jobs.list().find((j) => j.kind === 'classifier' && isLiveJobState(j.state))
      if (running) throw new HandlerError({ code: 'conflict', message: `A classifier is already training (job ${running.id}); wait for it or cancel it.` })
      return { jobId: jobs.submit({ kind: 'classifier', runId: null, dataDir, dataset, steps, seed, backend }).id }
    }
  }
}
