import { defineStore, acceptHMRUpdate } from 'pinia'
import { computed, ref, watch } from 'vue'
import { isLiveJobState, resultOf, LIMITS, type LikelihoodPoint, type LikelihoodResult, type PixelImage, type SampleRecord } from '@shared/contract'
import { errorMessage, lab } from '../client'
import { useJobsStore } from './jobs'
import { isToyRun, useSamplesStore } from './samples'

/** An image the user brought for one end of an interpolation, at the run's size. */
export interface BroughtImage {
  image: PixelImage
  url: string
  name: string
}

export type Estimator = 'rademacher' | 'gaussian'

/** The Likelihood card's settings (the checkpoint is the one chosen above it, unless every kept one). */
export interface LikelihoodForm {
  allCheckpoints: boolean
  split: 'test' | 'train'
  count: number
  seed: number
  estimator: Estimator
  probes: number
  useEma: boolean
}

/** Images evaluated by default: 2-D points are cheap, images each take an ODE solve. */
export function defaultLikelihoodCount(toy: boolean): number {
  return toy ? 512 : 16
}

/**
 * The Studies panel (latent interpolation, likelihood) and the Training view's likelihood curve:
 * their forms, their jobs and what those produced. The run and checkpoint are the samples
 * store's (the same choice as Sample, Control and Compare).
 */
export const useStudiesStore = defineStore('studies', () => {
  const jobs = useJobsStore()
  const samples = useSamplesStore()

  // ---- latent interpolation ----
  const split = ref<'test' | 'train'>('test')
  const ends = ref<[number, number]>([0, 1])
  const brought = ref<[BroughtImage | null, BroughtImage | null]>([null, null])
  const frames = ref(8)
  /** The ODE solver's rtol = atol, both ways. */
  const tolerance = ref(1e-5)
  const useEma = ref(true)
  const interpJobId = ref<string | null>(null)
  const interpError = ref<string | null>(null)
  /** The interpolation on show: the one just made, else the run's newest. */
  const interpolated = ref<SampleRecord | null>(null)
  const interpJob = computed(() => jobs.job(interpJobId.value))
  const interpRunning = computed(() => !!interpJobId.value && (!interpJob.value || isLiveJobState(interpJob.value.state)))
  const interpCancelled = ref(false)

  async function interpolate(): Promise<void> {
    const runId = samples.runId
    if (!runId) return
    interpError.value = null
    interpCancelled.value = false
    const [a, b] = brought.value
    try {
      const { jobId } = await lab.samples.interpolate({
        runId,
        checkpoint: samples.checkpoint ?? undefined,
        useEma: useEma.value,
        split: split.value,
        images: [...ends.value],
        ...(a || b ? { files: [a?.image ?? null, b?.image ?? null] } : {}),
        frames: frames.value,
        rtol: tolerance.value,
        atol: tolerance.value
      })
      interpJobId.value = jobId
    } catch (err) {
      interpError.value = `Could not start the interpolation: ${errorMessage(err)}`
    }
  }

  watch(() => interpJob.value?.state, (state) => {
    if (!state || isLiveJobState(state)) return
    if (state === 'failed') interpError.value = `The interpolation failed: ${interpJob.value?.error ?? 'unknown error'}`
    if (state === 'cancelled') interpCancelled.value = true
    const record = resultOf(interpJob.value, 'interpolate')?.samples[0]
    if (record) {
      interpolated.value = record
      void samples.loadImages(record)
    }
    interpJobId.value = null
    void samples.loadHistory()
  })

  // ---- likelihood ----
  const likelihoodForm = ref<LikelihoodForm>({ allCheckpoints: false, split: 'test', count: 512, seed: 0, estimator: 'rademacher', probes: 1, useEma: true })
  const likelihoodJobId = ref<string | null>(null)
  const likelihoodError = ref<string | null>(null)
  const likelihoodResult = ref<LikelihoodResult | null>(null)
  const likelihoodJob = computed(() => jobs.job(likelihoodJobId.value))
  const likelihoodRunning = computed(() => !!likelihoodJobId.value && (!likelihoodJob.value || isLiveJobState(likelihoodJob.value.state)))
  const likelihoodCancelled = ref(false)

  async function measureLikelihood(): Promise<void> {
    const runId = samples.runId
    if (!runId) return
    const f = likelihoodForm.value
    likelihoodError.value = null
    likelihoodCancelled.value = false
    try {
      const { jobId } = await lab.likelihood.start({
        runId,
        ...(f.allCheckpoints ? { allCheckpoints: true } : { checkpoint: samples.checkpoint ?? undefined }),
        count: f.count,
        split: f.split,
        seed: f.seed,
        useEma: f.useEma,
        estimator: f.estimator,
        probes: f.probes
      })
      likelihoodJobId.value = jobId
      likelihoodResult.value = null
    } catch (err) {
      likelihoodError.value = `Could not start the likelihood: ${errorMessage(err)}`
    }
  }

  watch(() => likelihoodJob.value?.state, (state) => {
    if (!state || isLiveJobState(state)) return
    const job = likelihoodJob.value
    if (state === 'failed') likelihoodError.value = `The likelihood failed: ${job?.error ?? 'unknown error'}`
    if (state === 'cancelled') likelihoodCancelled.value = true
    likelihoodResult.value = resultOf(job, 'likelihood')
    likelihoodJobId.value = null
    if (job?.runId) void loadLikelihoods(job.runId)
  })

  // ---- the likelihood over training (runs.likelihoods), and "Measure every checkpoint" ----
  const curves = ref<Record<string, LikelihoodPoint[] | undefined>>({})
  const curveErrors = ref<Record<string, string | undefined>>({})
  /** A run's "Measure every checkpoint" job. */
  const curveJobs = ref<Record<string, string | undefined>>({})

  async function loadLikelihoods(runId: string): Promise<void> {
    try {
      curves.value[runId] = await lab.runs.likelihoods({ runId })
      curveErrors.value[runId] = undefined
    } catch (err) {
      curveErrors.value[runId] = `Could not read the run's likelihoods: ${errorMessage(err)}`
    }
  }

  /** Every kept checkpoint of the run, the same images, seed and probes each: the curve beside the loss. */
  async function measureEveryCheckpoint(runId: string, toy: boolean): Promise<void> {
    curveErrors.value[runId] = undefined
    try {
      const { jobId } = await lab.likelihood.start({ runId, allCheckpoints: true, count: defaultLikelihoodCount(toy), split: 'test', seed: 0, useEma: true })
      curveJobs.value[runId] = jobId
    } catch (err) {
      curveErrors.value[runId] = `Could not start measuring: ${errorMessage(err)}`
    }
  }

  // A curve job ends: its points are in the run's likelihood.jsonl.
  watch(
    () => Object.entries(curveJobs.value).map(([runId, id]) => `${runId}:${jobs.job(id)?.state ?? ''}`).join(','),
    () => {
      for (const [runId, id] of Object.entries(curveJobs.value)) {
        const job = jobs.job(id)
        if (!id || !job || isLiveJobState(job.state)) continue
        if (job.state === 'failed') curveErrors.value[runId] = `Measuring failed: ${job.error ?? 'unknown error'}`
        curveJobs.value[runId] = undefined
        void loadLikelihoods(runId)
      }
    }
  )

  // Another run: its own newest interpolation, fresh ends, a count for its kind.
  watch(
    () => samples.runId,
    (id, old) => {
      if (id === old) return
      interpolated.value = null
      interpError.value = null
      brought.value = [null, null]
      likelihoodResult.value = null
      likelihoodError.value = null
      likelihoodForm.value = { ...likelihoodForm.value, allCheckpoints: false, count: defaultLikelihoodCount(isToyRun(samples.run)) }
    }
  )
  watch(
    () => samples.history,
    (list) => {
      if (interpolated.value?.runId === samples.runId) return
      const newest = list.find((r) => !!r.interpolation) ?? null
      interpolated.value = newest
      if (newest) void samples.loadImages(newest)
    }
  )

  async function cancel(which: 'interpolate' | 'likelihood'): Promise<void> {
    const id = which === 'interpolate' ? interpJobId.value : likelihoodJobId.value
    if (!id) return
    try {
      await jobs.cancel(id)
    } catch (err) {
      const msg = `Could not cancel: ${errorMessage(err)}`
      if (which === 'interpolate') interpError.value = msg
      else likelihoodError.value = msg
    }
  }

  const framesOk = computed(() => Number.isInteger(frames.value) && frames.value >= LIMITS.interpolationFrames.min && frames.value <= LIMITS.interpolationFrames.max)
  const toleranceOk = computed(() => Number.isFinite(tolerance.value) && tolerance.value >= LIMITS.odeTolerance.min && tolerance.value <= LIMITS.odeTolerance.max)

  return {
    split, ends, brought, frames, tolerance, useEma, interpJobId, interpError, interpolated, interpRunning, interpCancelled, framesOk, toleranceOk, interpolate, cancel,
    likelihoodForm, likelihoodJobId, likelihoodError, likelihoodResult, likelihoodRunning, likelihoodCancelled, measureLikelihood,
    curves, curveErrors, curveJobs, loadLikelihoods, measureEveryCheckpoint
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useStudiesStore, import.meta.hot))
