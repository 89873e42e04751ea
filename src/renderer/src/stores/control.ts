import { defineStore, acceptHMRUpdate } from 'pinia'
import { computed, ref, watch } from 'vue'
import { isLiveJobState, type Condition, type GuidanceState, type PixelImage } from '@shared/contract'
import { errorMessage, lab } from '../client'
import { useJobsStore } from './jobs'
import { useSamplesStore } from './samples'
import { base64ToBytes, pixelImageUrl, type InpaintPreset } from '../lib/pixel-image'

/** What the Control panel asks for: one class, every class in a grid, inpainting, colorisation. */
export type ControlTask = 'class' | 'classes' | 'inpaint' | 'colorize'
/** Where inpainting and colorisation take their images: a split of the run's data set, or a file the user dropped. */
export type ImageSource = 'test' | 'train' | 'file'

/** An image the user brought, at the run's size, with its picture and file name. */
export interface DroppedImage {
  image: PixelImage
  url: string
  name: string
}

/**
 * The Control panel's condition (task, class, weight, mask, images) and a run's guidance
 * classifier with its training job. Kept here, not in the panel, so a drawn mask or a dropped
 * image survives a trip to another panel; started over when another run is chosen.
 */
export const useControlStore = defineStore('control', () => {
  const samples = useSamplesStore()
  const jobs = useJobsStore()

  const task = ref<ControlTask | null>(null)
  const classLabel = ref(0)
  /** Guidance weight w (classifier-free or classifier guidance; toy-gmm's exact classifier's scale). */
  const guidance = ref(1)
  const perClass = ref(8)
  const maskMode = ref<InpaintPreset | 'draw'>('center')
  /** The drawn mask: 1 keep, 0 fill in (empty until the run's image size is known). */
  const drawn = ref(new Uint8Array(0))
  const source = ref<ImageSource>('test')
  const start = ref(0)
  const dropped = ref<DroppedImage | null>(null)

  // A run's guidance classifier (classifiers.guidance) and the job training it.
  const guidanceState = ref<GuidanceState | null>(null)
  const guidanceRunId = ref<string | null>(null)
  const guidanceError = ref<string | null>(null)
  const guidanceLoading = ref(false)
  const guidanceJobId = ref<string | null>(null)
  const guidanceJob = computed(() => jobs.job(guidanceJobId.value))
  const guidanceTraining = computed(() => !!guidanceJobId.value && (!guidanceJob.value || isLiveJobState(guidanceJob.value.state)))

  watch(
    () => samples.runId,
    (id, old) => {
      if (id === old) return
      task.value = null
      classLabel.value = 0
      start.value = 0
      dropped.value = null
      if (source.value === 'file') source.value = 'test'
      drawn.value = new Uint8Array(0)
      guidanceState.value = null
      guidanceRunId.value = null
      guidanceError.value = null
    }
  )

  async function loadGuidance(runId: string): Promise<void> {
    guidanceLoading.value = true
    try {
      const state = await lab.classifiers.guidance({ runId })
      if (samples.runId !== runId) return
      guidanceState.value = state
      guidanceRunId.value = runId
      guidanceError.value = null
      // A training started before a reload (or from the CLI on this lab) is followed again: the job names its run.
      const live = Object.values(jobs.jobs).find((j) => j.kind === 'classifier' && j.runId === runId && isLiveJobState(j.state))
      if (live && !guidanceJobId.value) guidanceJobId.value = live.id
    } catch (err) {
      if (samples.runId !== runId) return
      guidanceRunId.value = runId
      guidanceError.value = `Could not read this run's guidance classifier: ${errorMessage(err)}`
    } finally {
      guidanceLoading.value = false
    }
  }

  /** Trains (or resumes) the run's guidance classifier as a job. */
  async function trainGuidance(runId: string, opts: { steps?: number; seed?: number; fresh?: boolean } = {}): Promise<void> {
    guidanceError.value = null
    try {
      guidanceJobId.value = (await lab.classifiers.trainGuidance({ runId, ...opts })).jobId
    } catch (err) {
      guidanceError.value = `Could not train the guidance classifier: ${errorMessage(err)}`
    }
  }

  async function cancelGuidance(): Promise<void> {
    if (!guidanceJobId.value) return
    try {
      await jobs.cancel(guidanceJobId.value)
    } catch (err) {
      guidanceError.value = `Could not cancel: ${errorMessage(err)}`
    }
  }

  watch(() => guidanceJob.value?.state, (state) => {
    if (!state || isLiveJobState(state)) return
    if (state === 'failed') guidanceError.value = `Training the guidance classifier failed: ${guidanceJob.value?.error ?? 'unknown error'}`
    guidanceJobId.value = null
    if (samples.runId) void loadGuidance(samples.runId)
  })

  /** An earlier sample's condition back into the form. */
  function restore(c: Condition, shape: readonly number[] | null): void {
    task.value = c.kind
    if (c.kind === 'class' || c.kind === 'classes') {
      if (c.kind === 'class') classLabel.value = c.label
      else perClass.value = c.perClass
      guidance.value = c.guidance ?? c.scale ?? 1
      return
    }
    if (c.image) {
      dropped.value = { image: c.image, url: pixelImageUrl(c.image), name: 'the image of that sample' }
      source.value = 'file'
    } else {
      source.value = c.split
      start.value = c.start ?? 0
    }
    if (c.kind === 'inpaint') {
      if (typeof c.mask === 'string') maskMode.value = c.mask
      else if (shape && c.mask.width === shape[1] && c.mask.height === shape[0]) {
        drawn.value = base64ToBytes(c.mask.data)
        maskMode.value = 'draw'
      }
    }
  }

  return {
    task, classLabel, guidance, perClass, maskMode, drawn, source, start, dropped,
    guidanceState, guidanceRunId, guidanceError, guidanceLoading, guidanceJobId, guidanceJob, guidanceTraining,
    loadGuidance, trainGuidance, cancelGuidance, restore
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useControlStore, import.meta.hot))
