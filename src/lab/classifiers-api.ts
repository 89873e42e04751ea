// The classifiers' procedures: list the feature classifiers, train one as a job; train a run's
// guidance classifier (resuming an unfinished training unless `fresh`) and read its state.
import { isLiveJobState } from '../shared/contract'
import { HandlerError, type Handlers } from './dispatch'
import type { JobManager } from './jobs/manager'
import type { DatasetStore } from './datasets/store'
import { isImageDatasetName } from './datasets/registry'
import { deleteGuidanceTrainingState, guidanceState, listClassifiers } from './classifiers'
import type { RunStore } from './runs/store'

type ClassifierHandlers = Pick<Handlers, 'classifiers.list' | 'classifiers.train' | 'classifiers.trainGuidance' | 'classifiers.guidance'>

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
    'classifiers.trainGuidance': async ({ runId, steps, seed, fresh }) => {
      const { config } = runs.get(runId) // not_found for an unknown run
      if (!isImageDatasetName(config.dataset)) throw new HandlerError({ code: 'bad_request', message: `Run ${runId} is a 2-D toy run: toy-gmm's classes are guided by its exact classifier, with nothing to train.` })
      if (config.conditional) throw new HandlerError({ code: 'bad_request', message: `Run ${runId} is class-conditional: it samples a class by classifier-free guidance, with no classifier.` })
      await requireSet(config.dataset)
      oneAtATime()
      // The job resumes whatever unfinished state it finds (same steps and seed): fresh means none.
      if (fresh) deleteGuidanceTrainingState(dataDir, runId)
      return { jobId: jobs.submit({ kind: 'classifier', runId, dataDir, dataset: config.dataset, steps, seed, backend, guidanceFor: runId }).id }
    },
    'classifiers.guidance': async ({ runId }) => {
      runs.get(runId) // not_found for an unknown run
      return guidanceState(dataDir, runId)
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
