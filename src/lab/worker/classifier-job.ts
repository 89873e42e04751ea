// Trains a data set's feature classifier in a worker (engine/metrics/feature-net.ts), measures its
// test accuracy, and stores it atomically in the data folder for the quality measure.
import fs from 'node:fs'
import path from 'node:path'
import { accuracy, trainFeatureNet } from '../../engine/metrics/feature-net'
import { encodeFeatureNet } from '../../engine/metrics/feature-net-io'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'
import { DatasetStore } from '../datasets/store'
import { classifierInfo, classifierPath } from '../classifiers'
import type { ClassifierJobSpec, JobControl } from '../jobs/protocol'
import { cancellable, selectJobBackend, stepProgress, type Post } from './job-runtime'
import { runGuidanceClassifierJob } from './guidance-classifier-job'

/** Steps when the request names none: ≥ 85 % on FashionMNIST in a few minutes on two cores. */
export const CLASSIFIER_STEPS = 1500

export function runClassifierJob(spec: ClassifierJobSpec, post: Post, control: JobControl): Promise<void> {
  if (spec.guidanceFor !== undefined) return runGuidanceClassifierJob({ ...spec, guidanceFor: spec.guidanceFor }, post, control)
  return cancellable(post, control, async (signal) => {
    await selectJobBackend(spec, post)
    const store = new DatasetStore(spec.dataDir)
    const [train, test] = [await store.load(spec.dataset, 'train'), await store.load(spec.dataset, 'test')]
    const asImages = (s: typeof train) => ({ data: s.images, shape: [s.count, s.height, s.width, s.channels] as [number, number, number, number] })
    const steps = spec.steps ?? CLASSIFIER_STEPS
    const seed = spec.seed ?? 0
    const trained = await trainFeatureNet(asImages(train), train.labels, {
      steps,
      seed,
      signal,
      onProgress: stepProgress(post, 0.95)
    })
    try {
      const testAccuracy = await accuracy(trained.net, asImages(test), test.labels)
      const file = classifierPath(spec.dataDir, spec.dataset)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      writeFileAtomicSync(file, await encodeFeatureNet(trained.net, { dataset: spec.dataset, steps, seed, testAccuracy, trainSeconds: trained.seconds }))
      post({ type: 'log', level: 'info', message: `${spec.dataset} classifier: ${(testAccuracy * 100).toFixed(1)} % on the test split after ${steps} steps (${trained.seconds.toFixed(0)} s)` })
      const info = classifierInfo(spec.dataDir, spec.dataset)!
      post({ type: 'progress', fraction: 1, etaSeconds: 0, rate: null, unit: 'steps/s' })
      post({ type: 'done', outcome: 'finished', step: steps, trainMs: trained.seconds * 1000, result: { kind: 'classifier', ...info } })
    } finally {
      trained.net.dispose()
    }
  })
}
