import { defineStore, acceptHMRUpdate } from 'pinia'
import { computed, ref, watch } from 'vue'
import { isLiveJobState, resultOf, type CheckpointInfo, type Condition, type JobInfo, type JobResultOf, type ProcOutput, type SampleRecord } from '@shared/contract'
import { errorMessage, lab } from '../client'
import { useJobsStore } from './jobs'
import { useRunsStore } from './runs'
import { useCatalogStore } from './catalog'
import { samplerFields, type SamplerSettings, type SettingValue } from '../lib/sampler-fields'
import { defaultCompareForm, defaultSampleForm, parseCompareForm, parseSampleForm, runSection, type SweepPrefs } from '../lib/prefs'
import { usePersistentState } from '../composables/usePersistentState'
import { usePrefsKey } from '../composables/usePrefsKey'

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

/** Keys a sample record's settings carry for the request itself (count, seed, steps, ε…), never sampler settings. */
const REQUEST_KEYS = new Set(['batchSize', 'seed', 'eps', 'n', 'denoise', 'every'])

type JobState = 'idle' | 'running' | 'finished' | 'failed' | 'cancelled'

/** A 2-D toy run samples points (many of them); an image run samples a grid of images. */
export function isToyRun(run: { config: { model: string; dataset: string } } | null | undefined): boolean {
  return !!run && (run.config.model === 'mlp' || run.config.dataset.startsWith('toy-'))
}

/**
 * Sampling from a run's checkpoints: the run and checkpoint to sample from, the Sample and the
 * Compare panel's settings (each its own, per run, remembered across reloads), one sampling job
 * and one comparison job (each with its records once finished), the run's earlier samples, and
 * the images of each record (loaded on demand).
 */
export const useSamplesStore = defineStore('samples', () => {
  const jobs = useJobsStore()
  const runsStore = useRunsStore()
  const catalogStore = useCatalogStore()

  const runId = ref<string | null>(null)
  /** Checkpoint file; null: the newest. */
  const checkpoint = ref<string | null>(null)
  const checkpoints = ref<CheckpointInfo[]>([])
  const checkpointsState = ref<'idle' | 'loading' | 'ready' | 'error'>('idle')
  const checkpointsError = ref<string | null>(null)

  const run = computed(() => runsStore.runs.find((r) => r.id === runId.value) ?? null)
  const toy = computed(() => isToyRun(run.value))
  // Each run's Sample form and Compare form, kept per run (a toy run's 1000 points never become
  // an image run's count) and across reloads. Defaults follow the kind of run.
  const sampleKey = usePrefsKey(() => (runId.value ? runSection(runId.value, 'sample') : null))
  const controlKey = usePrefsKey(() => (runId.value ? runSection(runId.value, 'control') : null))
  const compareKey = usePrefsKey(() => (runId.value ? runSection(runId.value, 'compare') : null))
  const sampleForm = usePersistentState(sampleKey, (d) => parseSampleForm(d, toy.value))
  /** The Control panel's own sampler, seed, count… (pc by default; its condition lives in the control store). */
  const controlForm = usePersistentState(controlKey, (d) => parseSampleForm(d, toy.value))
  const compareForm = usePersistentState(compareKey, (d) => parseCompareForm(d, toy.value))
  // Before the data folder is known nothing is read or kept: another run starts from its defaults.
  watch(runId, () => {
    if (!sampleKey.value) sampleForm.value = defaultSampleForm(toy.value)
    if (!controlKey.value) controlForm.value = defaultSampleForm(toy.value)
    if (!compareKey.value) compareForm.value = defaultCompareForm(toy.value)
  })
  /** Which panel's form `common` is (SampleCommonFields serves all three): the panel on screen says. */
  const formFor = ref<'sample' | 'compare' | 'control'>('sample')
  /** The Sample or the Control panel's form (Compare has entries instead of one choice). */
  const ownForm = () => (formFor.value === 'control' ? controlForm : sampleForm)
  /** The Sample (or Control) panel's sampler and its settings. */
  const choice = computed<SamplerChoice>({ get: () => ownForm().value.choice, set: (v) => (ownForm().value.choice = v) })
  const trajectoryFrames = computed<number>({ get: () => ownForm().value.trajectoryFrames, set: (v) => (ownForm().value.trajectoryFrames = v) })
  /** The Compare panel's entries. */
  const entries = computed<SamplerChoice[]>({ get: () => compareForm.value.entries, set: (v) => (compareForm.value.entries = v) })
  /** The sweep's budgets and N (its samplers are the Compare entries, its seed, ε and EMA the panel's). */
  const sweepForm = computed<SweepPrefs>({ get: () => compareForm.value.sweep, set: (v) => (compareForm.value.sweep = v) })
  /** Seed, count, ε and EMA of the panel on screen. */
  const common = computed<SampleCommon>({
    get: () => (formFor.value === 'compare' ? compareForm.value.common : ownForm().value.common),
    set: (v) => {
      if (formFor.value === 'compare') compareForm.value.common = v
      else ownForm().value.common = v
    }
  })

  const sampleJobId = ref<string | null>(null)
  const sampleError = ref<string | null>(null)
  const current = ref<SampleRecord | null>(null)
  /** The Control panel's sampling job (controllable generation) and its result: its own, beside Sample's. */
  const controlJobId = ref<string | null>(null)
  const controlError = ref<string | null>(null)
  const controlCurrent = ref<SampleRecord | null>(null)
  const compareJobId = ref<string | null>(null)
  const compareError = ref<string | null>(null)
  const compared = ref<SampleRecord[]>([])
  /** Image runs: measure each compared entry through the data set's classifier. */
  const compareMetric = ref(false)
  const sweepJobId = ref<string | null>(null)
  const sweepError = ref<string | null>(null)
  const sweepResult = ref<JobResultOf<'sweep'> | null>(null)

  const history = ref<SampleRecord[]>([])
  const historyError = ref<string | null>(null)
  const images = ref<Record<string, SampleImages | undefined>>({})
  const imageErrors = ref<Record<string, string | undefined>>({})

  const sampleJob = computed(() => jobs.job(sampleJobId.value))
  const compareJob = computed(() => jobs.job(compareJobId.value))
  const sampleState = computed<JobState>(() => stateOf(sampleJob.value?.state, sampleJobId.value))
  const controlJob = computed(() => jobs.job(controlJobId.value))
  const controlState = computed<JobState>(() => stateOf(controlJob.value?.state, controlJobId.value))
  const compareState = computed<JobState>(() => stateOf(compareJob.value?.state, compareJobId.value))
  const sweepJob = computed(() => jobs.job(sweepJobId.value))
  const sweepState = computed<JobState>(() => stateOf(sweepJob.value?.state, sweepJobId.value))

  function stateOf(state: JobInfo['state'] | undefined, id: string | null): JobState {
    if (!id) return 'idle'
    if (!state || isLiveJobState(state)) return 'running'
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
    controlCurrent.value = null
    compared.value = []
    sweepResult.value = null
    checkpointsError.value = null
    if (!id) return void (checkpointsState.value = 'idle')
    await refreshCheckpoints()
    await loadHistory()
    // Sample shows the newest plain sample, Control the newest conditioned one.
    current.value = history.value.find((s) => !s.compareId && !s.condition && !s.interpolation) ?? null
    controlCurrent.value = history.value.find((s) => !s.compareId && !!s.condition) ?? null
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

  function request(c: SampleCommon) {
    return { runId: runId.value!, checkpoint: checkpoint.value ?? undefined, seed: c.seed, count: c.count, eps: c.eps ?? undefined, useEma: c.useEma }
  }

  function toRequest(c: SamplerChoice) {
    return { sampler: c.sampler, steps: c.steps ?? undefined, settings: { ...c.settings } }
  }

  async function sample(c: SamplerChoice, frames: number, condition?: Condition): Promise<void> {
    sampleError.value = null
    try {
      const { jobId } = await lab.samples.start({ ...request(sampleForm.value.common), ...toRequest(c), trajectoryFrames: frames, ...(condition ? { condition } : {}) })
      sampleJobId.value = jobId
    } catch (err) {
      sampleError.value = `Could not start sampling: ${errorMessage(err)}`
    }
  }

  /** Controllable generation from the Control panel: its own form, job and result. */
  async function control(c: SamplerChoice, frames: number, condition: Condition): Promise<void> {
    controlError.value = null
    try {
      const { jobId } = await lab.samples.start({ ...request(controlForm.value.common), ...toRequest(c), trajectoryFrames: frames, condition })
      controlJobId.value = jobId
    } catch (err) {
      controlError.value = `Could not start sampling: ${errorMessage(err)}`
    }
  }

  async function compare(list: SamplerChoice[]): Promise<void> {
    compareError.value = null
    try {
      const measure = compareMetric.value && !toy.value
      const { jobId } = await lab.samples.compare({ ...request(compareForm.value.common), entries: list.map(toRequest), ...(measure ? { metric: true } : {}) })
      compareJobId.value = jobId
      compared.value = []
    } catch (err) {
      compareError.value = `Could not start the comparison: ${errorMessage(err)}`
    }
  }

  /** Quality against cost: the Compare entries (their samplers and settings, not their steps) at each budget. */
  async function sweep(list: SamplerChoice[]): Promise<void> {
    sweepError.value = null
    const c = compareForm.value.common
    try {
      const { jobId } = await lab.samples.sweep({
        runId: runId.value!,
        checkpoint: checkpoint.value ?? undefined,
        seed: c.seed,
        eps: c.eps ?? undefined,
        useEma: c.useEma,
        n: sweepForm.value.n,
        nfe: [...sweepForm.value.nfe],
        samplers: list.map((e) => ({ sampler: e.sampler, settings: { ...e.settings } })),
        ...(sweepForm.value.fid && !isToyRun(run.value) ? { fid: true } : {})
      })
      sweepJobId.value = jobId
      sweepResult.value = null
    } catch (err) {
      sweepError.value = `Could not start the sweep: ${errorMessage(err)}`
    }
  }

  async function cancel(which: 'sample' | 'control' | 'compare' | 'sweep'): Promise<void> {
    const id = { sample: sampleJobId, control: controlJobId, compare: compareJobId, sweep: sweepJobId }[which].value
    if (!id) return
    try {
      await jobs.cancel(id)
    } catch (err) {
      const msg = `Could not cancel: ${errorMessage(err)}`
      if (which === 'sample') sampleError.value = msg
      else if (which === 'control') controlError.value = msg
      else if (which === 'compare') compareError.value = msg
      else sweepError.value = msg
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

  /** Shows a record in its panel: Control for a conditioned one, Sample for the rest. */
  function show(record: SampleRecord): void {
    if (record.condition) controlCurrent.value = record
    else current.value = record
    void loadImages(record)
  }

  /**
   * An earlier sample's settings back into the Sample form: its sampler, steps and settings, seed,
   * count and ε (and its checkpoint, when that is not simply the newest). A conditioned record
   * goes back into the Control form, the others into the Sample form.
   */
  function restore(record: SampleRecord): void {
    if (record.runId !== runId.value) return
    const defaults = catalogStore.catalog?.samplers.find((s) => s.name === record.sampler)?.defaults
    const keys = defaults ? samplerFields(defaults).map((f) => f.key) : Object.keys(record.settings).filter((k) => !REQUEST_KEYS.has(k))
    const settings: SamplerSettings = {}
    for (const k of keys) {
      const v = record.settings[k] ?? defaults?.[k]
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') settings[k] = v as SettingValue
    }
    const n = record.settings.n
    const eps = record.settings.eps
    const target = record.condition ? controlForm : sampleForm
    const form = target.value
    target.value = {
      choice: { sampler: record.sampler, steps: typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : null, settings },
      // A per-class grid's count follows from its condition: the form keeps its own.
      common: { ...form.common, seed: record.seed, count: record.condition?.kind === 'classes' ? form.common.count : record.count, eps: typeof eps === 'number' ? eps : null },
      trajectoryFrames: record.gif ? form.trajectoryFrames || 20 : 0
    }
    const newest = checkpoints.value[0]?.file
    if (record.checkpoint !== newest && checkpoints.value.some((c) => c.file === record.checkpoint)) checkpoint.value = record.checkpoint
    else if (record.checkpoint === newest) checkpoint.value = null
  }

  function samplesOf(jobId: string | null, kind: 'sample' | 'compare'): SampleRecord[] {
    return resultOf(jobs.job(jobId), kind)?.samples ?? []
  }

  const failure = (state: string, error: string | null | undefined, what: string) =>
    state === 'failed' ? `${what} failed: ${error ?? 'unknown error'}` : null

  watch(() => sampleJob.value?.state, (state) => {
    if (!state || isLiveJobState(state)) return
    sampleError.value = failure(state, sampleJob.value?.error, 'Sampling')
    const [record] = samplesOf(sampleJobId.value, 'sample')
    if (record) show(record)
    void loadHistory()
  })

  watch(() => controlJob.value?.state, (state) => {
    if (!state || isLiveJobState(state)) return
    controlError.value = failure(state, controlJob.value?.error, 'Sampling')
    const [record] = samplesOf(controlJobId.value, 'sample')
    if (record) show(record)
    void loadHistory()
  })

  watch(() => sweepJob.value?.state, (state) => {
    if (!state || isLiveJobState(state)) return
    sweepError.value = failure(state, sweepJob.value?.error, 'The sweep')
    sweepResult.value = resultOf(sweepJob.value, 'sweep')
    void loadHistory()
  })

  watch(() => compareJob.value?.state, (state) => {
    if (!state || isLiveJobState(state)) return
    compareError.value = failure(state, compareJob.value?.error, 'The comparison')
    compared.value = samplesOf(compareJobId.value, 'compare')
    for (const r of compared.value) void loadImages(r)
    void loadHistory()
  })

  /** A run to sample from once the list holds it (the one chosen before a reload, or a link's). */
  let wanted: string | null = null
  function selectRunWhenListed(id: string): void {
    if (!runsStore.loaded) wanted = id
    else if (runsStore.runs.some((r) => r.id === id)) void selectRun(id)
  }

  // Follow the run list: start from the run wanted (or selected in Runs, or the newest), and pick
  // again when the chosen run is deleted.
  watch(
    () => [runsStore.loaded, runsStore.runs.map((r) => r.id).join(',')] as const,
    ([loaded]) => {
      const ids = runsStore.runs.map((r) => r.id)
      if (!loaded) return
      const want = wanted && ids.includes(wanted) ? wanted : null
      wanted = null
      if (want) return void selectRun(want)
      if (runId.value && ids.includes(runId.value)) return
      void selectRun(runsStore.selectedId && ids.includes(runsStore.selectedId) ? runsStore.selectedId : (ids[0] ?? null))
    },
    { immediate: true }
  )
  // A run that trains on writes new checkpoints: each checkpoint event carries the kept list.
  watch(
    () => (runId.value ? runsStore.checkpointLists[runId.value] : undefined),
    (list) => {
      if (!list || checkpointsState.value !== 'ready') return
      checkpoints.value = list
      if (checkpoint.value && !list.some((c) => c.file === checkpoint.value)) checkpoint.value = null
    }
  )

  return {
    runId, checkpoint, checkpoints, checkpointsState, checkpointsError, common, choice, trajectoryFrames, entries, formFor,
    sampleJobId, sampleError, current, controlJobId, controlError, controlCurrent, controlJob, controlState, control, compareJobId, compareError, compared, history, historyError, images, imageErrors,
    compareMetric, sweepForm, sweepJobId, sweepError, sweepResult, sweepState, sweep,
    run, sampleJob, compareJob, sampleState, compareState,
    selectRun, selectRunWhenListed, selectCheckpoint, refreshCheckpoints, loadHistory, sample, compare, cancel, loadImages, show, restore, saveOnLab
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSamplesStore, import.meta.hot))
