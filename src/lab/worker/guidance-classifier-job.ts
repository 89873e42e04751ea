// Trains a run's noise-conditional classifier p_t(y | x(t)) in a worker (engine/classifier): the
// run's data set, perturbed by the run's own SDE, in the run's data range, so its gradient can
// guide that run's samples. Measures its test accuracy at t ≈ 0, mid-way and t = T, and stores it
// atomically in the run's folder (run-layout.ts: guidanceClassifier).
import { createSde } from '../../engine/sde'
import { accuracyByTime, encodeNoiseClassifier, trainNoiseClassifier } from '../../engine/classifier'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'
import { DatasetStore } from '../datasets/store'
import { RunStore } from '../runs/store'
import { guidanceClassifierInfo } from '../classifiers'
import type { ClassifierJobSpec, JobControl } from '../jobs/protocol'
import { cancellable, selectJobBackend, stepProgress, type Post } from './job-runtime'

/** Steps when the request names none: FashionMNIST ≈ 65 % at t = 0.05 with the small net in well under a minute. */
export const GUIDANCE_CLASSIFIER_STEPS = 1000
/** Where its accuracy is reported: near the data, mid-way, and at T (chance for VE). */
export const GUIDANCE_ACCURACY_TIMES = [0.05, 0.5, 1]

export function runGuidanceClassifierJob(spec: ClassifierJobSpec & { guidanceFor: string }, post: Post, control: JobControl): Promise<void> {
  return cancellable(post, control, async (signal) => {
    await selectJobBackend(spec, post)
    const runs = new RunStore(spec.dataDir)
    const run = runs.get(spec.guidanceFor)
    const { config } = run
    const sde = createSde({ name: config.sde.name, ...config.sde.params })
    const store = new DatasetStore(spec.dataDir)
    const [train, test] = [await store.load(config.dataset, 'train'), await store.load(config.dataset, 'test')]
    const asImages = (s: typeof train) => ({ data: s.images, shape: [s.count, s.height, s.width, s.channels] as [number, number, number, number] })
    const steps = spec.steps ?? GUIDANCE_CLASSIFIER_STEPS
    const seed = spec.seed ?? 0
    const trained = await trainNoiseClassifier({
      images: asImages(train),
      labels: train.labels,
      sde,
      steps,
      seed,
      signal,
      net: { classes: train.classNames.length, range: config.centered ? 'centered' : 'unit' },
      onProgress: stepProgress(post, 0.9)
    })
    try {
      // 2,000 test images are enough to read accuracy to ±1 %.
      const n = Math.min(2000, test.count)
      const sample = { data: test.images.subarray(0, n * test.height * test.width * test.channels), shape: [n, test.height, test.width, test.channels] as [number, number, number, number] }
      const accuracies = accuracyByTime(trained.classifier, sample, test.labels.subarray(0, n), GUIDANCE_ACCURACY_TIMES, { seed })
      const byTime = GUIDANCE_ACCURACY_TIMES.map((t, i) => ({ t, accuracy: accuracies[i]! }))
      const file = runs.paths(spec.guidanceFor).guidanceClassifier
      writeFileAtomicSync(file, encodeNoiseClassifier(trained.classifier, { dataset: config.dataset, steps, seed, trainSeconds: trained.seconds, accuracyByTime: byTime }))
      post({ type: 'log', level: 'info', message: `Guidance classifier of run ${run.name}: test accuracy ${byTime.map((b) => `${(b.accuracy * 100).toFixed(1)} % at t = ${b.t}`).join(', ')} after ${steps} steps (${trained.seconds.toFixed(0)} s)` })
      const info = guidanceClassifierInfo(spec.dataDir, spec.guidanceFor)!
      post({ type: 'progress', fraction: 1, etaSeconds: 0, rate: null, unit: 'steps/s' })
      post({ type: 'done', outcome: 'finished', step: steps, trainMs: trained.seconds * 1000, result: { kind: 'classifier', ...info } })
    } finally {
      trained.classifier.dispose()
    }
  })
}
