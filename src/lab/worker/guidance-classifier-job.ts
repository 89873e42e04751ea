// Trains a run's noise-conditional classifier p_t(y | x(t)) in a worker (engine/classifier): the
// run's data set, perturbed by the run's own SDE, in the run's data range, so its gradient can
// guide that run's samples. Measures its test accuracy at t ≈ 0, mid-way and t = T, and stores it
// atomically in the run's folder (run-layout.ts: guidanceClassifier). Tracked as a score run is:
// its curve goes to guidance-classifier/metrics.jsonl, its state to guidance-classifier/ every
// GUIDANCE_CHECKPOINT_EVERY steps and at a cancel, and a training of the same steps and seed
// resumes that state (bit for bit the stream of an uninterrupted one); finishing deletes it.
import { createSde } from '../../engine/sde'
import { accuracyByTime, encodeNoiseClassifier, encodeNoiseClassifierState, trainNoiseClassifier, type NoiseClassifierTrainingState } from '../../engine/classifier'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'
import { DatasetStore } from '../datasets/store'
import { RunStore } from '../runs/store'
import { appendGuidanceMetric, deleteGuidanceTrainingState, guidanceClassifierInfo, readGuidanceTrainingState, restartGuidanceMetrics, writeGuidanceTrainingState } from '../classifiers'
import type { ClassifierJobSpec, JobControl } from '../jobs/protocol'
import { cancellable, selectJobBackend, stepProgress, type Post } from './job-runtime'

/** Steps when the request names none: FashionMNIST ≈ 65 % at t = 0.05 with the small net in well under a minute. */
export const GUIDANCE_CLASSIFIER_STEPS = 1000
/** Where its accuracy is reported: near the data, mid-way, and at T (chance for VE). */
export const GUIDANCE_ACCURACY_TIMES = [0.05, 0.5, 1]
/** Steps between resume states (and at a cancel): a crash loses at most this much (~10 s at default size). */
export const GUIDANCE_CHECKPOINT_EVERY = 200

type Dataset = Awaited<ReturnType<DatasetStore['load']>>
const asImages = (s: Dataset) => ({ data: s.images, shape: [s.count, s.height, s.width, s.channels] as [number, number, number, number] })

export function runGuidanceClassifierJob(spec: ClassifierJobSpec & { guidanceFor: string }, post: Post, control: JobControl): Promise<void> {
  return cancellable(post, control, async (signal) => {
    await selectJobBackend(spec, post)
    const { dataDir, guidanceFor: runId } = spec
    const runs = new RunStore(dataDir)
    const run = runs.get(runId)
    const { config } = run
    const sde = createSde({ name: config.sde.name, ...config.sde.params })
    const store = new DatasetStore(dataDir)
    const [train, test] = [await store.load(config.dataset, 'train'), await store.load(config.dataset, 'test')]
    const steps = spec.steps ?? GUIDANCE_CLASSIFIER_STEPS
    const seed = spec.seed ?? 0
    const resume = resumableState(dataDir, runId, { steps, seed, images: train.count })
    // A new training replaces any other's state and curve; a resumed one redoes the steps after its state.
    if (!resume) deleteGuidanceTrainingState(dataDir, runId)
    restartGuidanceMetrics(dataDir, runId, resume?.step ?? 0)
    if (resume) post({ type: 'log', level: 'info', message: `Resuming the guidance classifier of run ${run.name} at step ${resume.step} of ${steps}` })
    const from = resume?.step ?? 0
    const progress = stepProgress(post, 0.9)
    const trained = await trainNoiseClassifier({
      images: asImages(train),
      labels: train.labels,
      sde,
      steps,
      seed,
      signal,
      resume: resume ?? undefined,
      net: { classes: train.classNames.length, range: config.centered ? 'centered' : 'unit' },
      // Seconds scaled to the whole training, so the ETA follows this session's rate after a resume.
      onProgress: (p) => progress({ step: p.step, steps: p.steps, seconds: (p.seconds * p.step) / (p.step - from) }),
      onLog: (p) => appendGuidanceMetric(dataDir, runId, { ...p, time: Date.now() }),
      checkpointEvery: GUIDANCE_CHECKPOINT_EVERY,
      onCheckpoint: (state) => writeGuidanceTrainingState(dataDir, runId, encodeNoiseClassifierState(state))
    })
    try {
      // 2,000 test images are enough to read accuracy to ±1 %.
      const n = Math.min(2000, test.count)
      const sample = { data: test.images.subarray(0, n * test.height * test.width * test.channels), shape: [n, test.height, test.width, test.channels] as [number, number, number, number] }
      const accuracies = await accuracyByTime(trained.classifier, sample, test.labels.subarray(0, n), GUIDANCE_ACCURACY_TIMES, { seed })
      const byTime = GUIDANCE_ACCURACY_TIMES.map((t, i) => ({ t, accuracy: accuracies[i]! }))
      const file = runs.paths(runId).guidanceClassifier
      writeFileAtomicSync(file, await encodeNoiseClassifier(trained.classifier, { dataset: config.dataset, steps, seed, trainSeconds: trained.totalSeconds, accuracyByTime: byTime }))
      deleteGuidanceTrainingState(dataDir, runId) // finished: nothing left to resume
      post({ type: 'log', level: 'info', message: `Guidance classifier of run ${run.name}: test accuracy ${byTime.map((b) => `${(b.accuracy * 100).toFixed(1)} % at t = ${b.t}`).join(', ')} after ${steps} steps (${trained.totalSeconds.toFixed(0)} s)` })
      const info = guidanceClassifierInfo(dataDir, runId)!
      post({ type: 'progress', fraction: 1, etaSeconds: 0, rate: null, unit: 'steps/s' })
      post({ type: 'done', outcome: 'finished', step: steps, trainMs: trained.totalSeconds * 1000, result: { kind: 'classifier', ...info } })
    } finally {
      trained.classifier.dispose()
    }
  })
}

/**
 * The saved unfinished training to continue, when it has these steps and seed and was drawn from
 * a training set of this size (the handler deletes it for a fresh training); otherwise null.
 */
function resumableState(dataDir: string, runId: string, want: { steps: number; seed: number; images: number }): NoiseClassifierTrainingState | null {
  const state = readGuidanceTrainingState(dataDir, runId)
  if (!state) return null
  const s = state.settings
  return s.steps === want.steps && s.seed === want.seed && s.images === want.images && state.step < want.steps ? state : null
}
