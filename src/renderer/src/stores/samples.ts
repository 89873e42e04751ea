import { defineStore, acceptHMRUpdate } from 'pinia'
import { computed, ref, watch } from 'vue'
import type { CheckpointInfo, ProcOutput, SampleRecord } from '@shared/contract'
import { errorMessage, lab } from '../client'
import { useJobsStore } from './jobs'
import { useRunsStore } from './runs'
import type { SamplerSettings } from '../lib/sampler-fields'

export type SampleImages = ProcOutput<'samples.image'>

/** What every sample of a run shares, in the Sample and the Compare panel alike. */
export interface SampleCommon {
  seed: number
  count: number
  /** End time ε; null: the SDE's default. */
  eps: number | null
  useEma: boolean
}

export interface SamplerChoice {
  sampler: string
  /** null: the SDE's N (ald: its default L). */
  steps: number | null
  settings: SamplerSettings
}

type JobState = 'idle' | 'running' | 'finished' | 'failed' | 'cancelled'

/**
 * Sampling from a run's checkpoints: the run and checkpoint to sample from, the settings
 * shared with Compare, one sampling job and one comparison job (each with its records once
 * finished), the run's earlier samples, and the images of each record (loaded on demand).
 */
export const useSamplesStore = defineStore('samples', () => {
  const jobs = useJobsStore()
  const runsStore = useRunsStore()

  const runId = ref<string | null>(null)
  /** Checkpoint file; null: the newest. */
  const checkpoint = ref<string | null>(null)
  const checkpoints = ref<CheckpointInfo[]>([])
  const checkpointsState = ref<'idle' | 'loading' | 'ready' | 'error'>('idle')
  const checkpointsError = ref<string | null>(null)
  const common = ref<SampleCommon>({ seed: 0, count: 64, eps: null, useEma: true })
  /** The Sample panel's sampler and its settings; the Compare panel's entries. Kept across panel switches. */
  const choice = ref<SamplerChoice>({ sampler: '', steps: null, settings: {} })
  const trajectoryFrames = ref(20)
  const entries = ref<SamplerChoice[]>([])

  const sampleJobId = ref<string | null>(null)
  const sampleError = ref<string | null>(null)
  const current = ref<SampleRecord | null>(null)
  const compareJobId = ref<string | null>(null)
  const compareError = ref<string | null>(null)
  const compared = ref<SampleRecord[]>([])

  const history = ref<SampleRecord[]>([])
  const historyError = ref<string | null>(null)
  const images = ref<Record<string, SampleImages | undefined>>({})
  const imageErrors = ref<Record<string, string | undefined>>({})

  const run = computed(() => runsStore.runs.find((r) => r.id === runId.value) ?? null)
  const sampleJob = computed(() => jobs.job(sampleJobId.value))
  const compareJob = computed(() => jobs.job(compareJobId.value))
  const sampleState = computed<JobState>(() => stateOf(sampleJob.value?.state, sampleJobId.value))
  const compareState = computed<JobState>(() => stateOf(compareJob.value?.state, compareJobId.value))

  function stateOf(state: string | undefined, id: string | null): JobState {
    if (!id) return 'idle'
    if (!state || state === 'queued' || state === 'running' || state === 'paused') return 'running'
    return state as JobState
  }

  /** Picks the run to sample from and reads its checkpoints and earlier samples. */
  async function selectRun(id: string | null): Promise<void> {
    if (id === runId.value && checkpointsState.value === 'ready') return
    runId.value = id
    checkpoint.value = null
    checkpoints.value = []
    history.value = []
    current.value = null
    compared.value = []
    checkpointsError.value = null
    if (!id) return void (checkpointsState.value = 'idle')
    await refreshCheckpoints()
    await loadHistory()
    current.value = history.value.find((s) => !s.compareId) ?? null
  }

  /** "Sample from" a checkpoint elsewhere (the training view): this run, this checkpoint. */
  async function selectCheckpoint(id: string, file: string): Promise<void> {
    await selectRun(id)
    if (runId.value !== id) return
    if (!checkpoints.value.some((c) => c.file === file)) await refreshCheckpoints()
    checkpoint.value = checkpoints.value.some((c) => c.file === file) ? file : null
  }

  async function refreshCheckpoints(): Promise<void> {
    const id = runId.value
    if (!id) return
    checkpointsState.value = 'loading'
    try {
      const { checkpoints: list } = await lab.runs.get({ runId: id })
      if (runId.value !== id) return
      checkpoints.value = [...list].sort((a, b) => b.step - a.step)
      if (checkpoint.value && !list.some((c) => c.file === checkpoint.value)) checkpoint.value = null
      checkpointsState.value = 'ready'
    } catch (err) {
      checkpointsState.value = 'error'
      checkpointsError.value = `Could not read the run's checkpoints: ${errorMessage(err)}`
    }
  }

  async function loadHistory(): Promise<void> {
    const id = runId.value
    if (!id) return
    try {
      const list = await lab.samples.list({ runId: id })
      if (runId.value === id) history.value = list
      historyError.value = null
    } catch (err) {
      historyError.value = `Could not list the earlier samples: ${errorMessage(err)}`
    }
  }

  function request() {
    const c = common.value
    return { runId: runId.value!, checkpoint: checkpoint.value ?? undefined, seed: c.seed, count: c.count, eps: c.eps ?? undefined, useEma: c.useEma }
  }

  function toRequest(c: SamplerChoice) {
    return { sampler: c.sampler, steps: c.steps ?? undefined, settings: { ...c.settings } }
  }

  async function sample(c: SamplerChoice, frames: number): Promise<void> {
    sampleError.value = null
    try {
      const { jobId } = await lab.samples.start({ ...request(), ...toRequest(c), trajectoryFrames: frames })
      sampleJobId.value = jobId
    } catch (err) {
      sampleError.value = `Could not start sampling: ${errorMessage(err)}`
    }
  }

  async function compare(list: SamplerChoice[]): Promise<void> {
    compareError.value = null
    try {
      const { jobId } = await lab.samples.compare({ ...request(), entries: list.map(toRequest) })
      compareJobId.value = jobId
      compared.value = []
    } catch (err) {
      compareError.value = `Could not start the comparison: ${errorMessage(err)}`
    }
  }

  async function cancel(which: 'sample' | 'compare'): Promise<void> {
    const id = which === 'sample' ? sampleJobId.value : compareJobId.value
    if (!id) return
    try {
      await jobs.cancel(id)
    } catch (err) {
      const msg = `Could not cancel: ${errorMessage(err)}`
      if (which === 'sample') sampleError.value = msg
      else compareError.value = msg
    }
  }

  async function loadImages(record: SampleRecord): Promise<void> {
    if (images.value[record.id]) return
    imageErrors.value[record.id] = undefined
    try {
      images.value[record.id] = await lab.samples.image({ runId: record.runId, id: record.id })
    } catch (err) {
      imageErrors.value[record.id] = `Could not load this sample's images: ${errorMessage(err)}`
    }
  }

  /** Writes a sample's PNG or GIF to a path on the lab's machine (browser mode on a remote box). */
  async function saveOnLab(record: SampleRecord, path: string, what: 'png' | 'gif', overwrite = false): Promise<{ path: string; bytes: number }> {
    return lab.samples.export({ runId: record.runId, id: record.id, path: path.trim(), what, overwrite })
  }

  function show(record: SampleRecord): void {
    current.value = record
    void loadImages(record)
  }

  function resultOf(jobId: string | null): SampleRecord[] {
    const result = jobs.job(jobId)?.result as { samples?: SampleRecord[] } | null | undefined
    return result?.samples ?? []
  }

  const failure = (state: string, error: string | null | undefined, what: string) =>
    state === 'failed' ? `${what} failed: ${error ?? 'unknown error'}` : null

  watch(() => sampleJob.value?.state, (state) => {
    if (!state || state === 'queued' || state === 'running' || state === 'paused') return
    sampleError.value = failure(state, sampleJob.value?.error, 'Sampling')
    const [record] = resultOf(sampleJobId.value)
    if (record) show(record)
    void loadHistory()
  })

  watch(() => compareJob.value?.state, (state) => {
    if (!state || state === 'queued' || state === 'running' || state === 'paused') return
    compareError.value = failure(state, compareJob.value?.error, 'The comparison')
    compared.value = resultOf(compareJobId.value)
    for (const r of compared.value) void loadImages(r)
    void loadHistory()
  })

  // Follow the run list: start from the run selected in Runs (or the newest), and pick again
  // when the chosen run is deleted.
  watch(
    () => [runsStore.loaded, runsStore.runs.map((r) => r.id).join(',')] as const,
    ([loaded]) => {
      const ids = runsStore.runs.map((r) => r.id)
      if (!loaded || (runId.value && ids.includes(runId.value))) return
      void selectRun(runsStore.selectedId && ids.includes(runsStore.selectedId) ? runsStore.selectedId : (ids[0] ?? null))
    },
    { immediate: true }
  )
  // A run that trains on writes new checkpoints: read the list again when one is due or training ends.
  watch(
    () => (run.value ? `${run.value.status}:${Math.floor(run.value.step / run.value.config.checkpointEvery)}` : null),
    (now, before) => {
      if (now && before && now !== before) void refreshCheckpoints()
    }
  )

  return {
    runId, checkpoint, checkpoints, checkpointsState, checkpointsError, common, choice, trajectoryFrames, entries,
    sampleJobId, sampleError, current, compareJobId, compareError, compared, history, historyError, images, imageErrors,
    run, sampleJob, compareJob, sampleState, compareState,
    selectRun, selectCheckpoint, refreshCheckpoints, loadHistory, sample, compare, cancel, loadImages, show, saveOnLab
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSamplesStore, import.meta.hot))
