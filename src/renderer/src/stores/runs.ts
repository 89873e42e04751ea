import { defineStore, acceptHMRUpdate } from 'pinia'
import { computed, ref, watch } from 'vue'
import { isLiveRunStatus, RunStatusSchema, type CheckpointInfo, type LabEvent, type MetricPoint, type ProcInput, type ProcOutput, type RunSummary, type TrainConfig } from '@shared/contract'
import { errorMessage, lab } from '../client'
import { mergePoints } from '../lib/metric-points'
import { SERIES_COLORS } from '../lib/chart'
import { assignColors, isColor, parseColors } from '../lib/prefs'
import { usePersistentState } from '../composables/usePersistentState'
import { forgetRunPrefs, usePrefsKey } from '../composables/usePrefsKey'

export type GroupVary = ProcInput<'runs.startGroup'>['vary']
/** The tag every run of a run group carries, followed by the group's name. */
export const GROUP_TAG = 'group:'

export type RunPatch = { name?: string; notes?: string; tags?: string[] }
export type CheckpointFormat = 'safetensors' | 'torch'
export type CheckpointExport = ProcOutput<'checkpoints.export'>
export type ScoreField = ProcOutput<'runs.scoreField'>
export type TorchPackage = ProcOutput<'runs.exportTorch'>
type MetricsState = 'loading' | 'ready' | 'error'

/** Live statuses: the run has a job that can be paused or stopped (the contract's isLiveRunStatus). */
export const LIVE: readonly RunSummary['status'][] = RunStatusSchema.options.filter(isLiveRunStatus)
/** Statuses from which training can be resumed. */
export const RESUMABLE: readonly RunSummary['status'][] = ['stopped', 'interrupted', 'failed']

/**
 * Runs, the selected run, its checkpoints, and the metric points of every run on the chart.
 * Points can run to millions, so they live outside Vue's reactivity (plain arrays, merged in
 * place) and `metricsVersion[runId]` ticks when they change.
 */
export const useRunsStore = defineStore('runs', () => {
  const runs = ref<RunSummary[]>([])
  const loaded = ref(false)
  const error = ref<string | null>(null)
  const selectedId = ref<string | null>(null)
  /** Runs overlaid on the selected run's chart (besides the selected run itself). */
  const overlayIds = ref<string[]>([])
  const checkpoints = ref<CheckpointInfo[]>([])
  const checkpointsError = ref<string | null>(null)
  /**
   * The newest kept-checkpoint list known per run, newest step first: each checkpoint event
   * carries it, and deletes answer with it, so other views (Sample) follow without a refetch.
   */
  const checkpointLists = ref<Record<string, CheckpointInfo[]>>({})
  /** The selected run's latest preview grid (written every previewEvery steps). */
  const preview = ref<{ step: number; dataUrl: string } | null>(null)
  const metricsVersion = ref<Record<string, number>>({})
  const metricsState = ref<Record<string, MetricsState>>({})
  const metricsError = ref<Record<string, string>>({})
  const points = new Map<string, MetricPoint[]>()
  /** Streamed points that arrived while a run's history was loading. */
  const early = new Map<string, MetricPoint[]>()
  /** A run to select once the list holds it (from a link, or the run selected before a reload). */
  let wanted: string | null = null
  /** Each run's colour (its curve, its swatch), remembered per data folder; see assignColors. */
  const colorsKey = usePrefsKey('colors')
  const storedColors = usePersistentState(colorsKey, parseColors)

  const selected = computed(() => runs.value.find((r) => r.id === selectedId.value) ?? null)
  /** The runs on the chart: the selected one first, then the overlays, in table order. */
  const chartRunIds = computed(() => {
    const ids = selectedId.value ? [selectedId.value] : []
    for (const r of runs.value) if (overlayIds.value.includes(r.id) && r.id !== selectedId.value) ids.push(r.id)
    return ids
  })

  /** Runs oldest first: the order colours are handed out in. */
  const oldestFirst = computed(() => [...runs.value].sort((a, b) => a.createdAt - b.createdAt).map((r) => r.id))
  /** Every run's colour: the one chosen or remembered, else the one it will be given. */
  const colors = computed<Record<string, string>>(() => ({ ...assignColors(oldestFirst.value, storedColors.value, SERIES_COLORS), ...storedColors.value }))
  // Once the data folder is known, a run's colour is kept from the first time it is listed.
  watch([colorsKey, oldestFirst], () => {
    if (!colorsKey.value || !loaded.value) return
    const added = assignColors(oldestFirst.value, storedColors.value, SERIES_COLORS)
    if (Object.keys(added).length) storedColors.value = { ...storedColors.value, ...added }
  })

  function colorOf(runId: string): string {
    return colors.value[runId] ?? SERIES_COLORS[0]!
  }

  function setColor(runId: string, color: string): void {
    if (isColor(color)) storedColors.value = { ...storedColors.value, [runId]: color.toLowerCase() }
  }

  async function load(): Promise<void> {
    try {
      runs.value = await lab.runs.list()
      loaded.value = true
      error.value = null
      if (selectedId.value && !runs.value.some((r) => r.id === selectedId.value)) selectedId.value = null
      const want = wanted && runs.value.some((r) => r.id === wanted) ? wanted : null
      wanted = null
      if (want) await select(want)
      else if (!selectedId.value && runs.value[0]) await select(runs.value[0].id)
    } catch (err) {
      error.value = `Could not list the runs: ${errorMessage(err)}`
    }
  }

  /**
   * Selects a run by id once the list holds it: now when it is loaded (false when there is no such
   * run), else when it arrives (in place of the newest run load() would pick).
   */
  function selectWhenListed(runId: string): boolean {
    if (!loaded.value) {
      wanted = runId
      return true
    }
    if (!runs.value.some((r) => r.id === runId)) return false
    if (selectedId.value !== runId) void select(runId)
    return true
  }

  async function select(runId: string | null): Promise<void> {
    selectedId.value = runId
    checkpoints.value = []
    checkpointsError.value = null
    preview.value = null
    if (!runId) return
    await Promise.all([ensureMetrics(runId), refreshCheckpoints(), loadPreview(runId)])
  }

  async function refreshCheckpoints(): Promise<void> {
    const runId = selectedId.value
    if (!runId) return
    try {
      const { run, checkpoints: list } = await lab.runs.get({ runId })
      if (selectedId.value !== runId) return
      checkpoints.value = [...list].sort((a, b) => b.step - a.step)
      upsertRun(run)
      checkpointsError.value = null
    } catch (err) {
      checkpointsError.value = `Could not read the checkpoints: ${errorMessage(err)}`
    }
  }

  async function loadPreview(runId: string): Promise<void> {
    try {
      const p = await lab.runs.preview({ runId })
      if (selectedId.value === runId && p && (!preview.value || p.step >= preview.value.step)) preview.value = p
    } catch {
      // No preview is not an error worth showing: the card says when the first one is due.
    }
  }

  function toggleOverlay(runId: string, on: boolean): void {
    overlayIds.value = on ? [...new Set([...overlayIds.value, runId])] : overlayIds.value.filter((id) => id !== runId)
    if (on) void ensureMetrics(runId)
  }

  /** Loads a run's stored points once; later points come from `metrics` events. */
  async function ensureMetrics(runId: string): Promise<void> {
    const state = metricsState.value[runId]
    if (state === 'loading' || state === 'ready') return
    metricsState.value[runId] = 'loading'
    early.set(runId, [])
    try {
      const loadedPoints = await lab.runs.metrics({ runId })
      const list: MetricPoint[] = []
      mergePoints(list, loadedPoints)
      mergePoints(list, early.get(runId) ?? [])
      points.set(runId, list)
      metricsState.value[runId] = 'ready'
      delete metricsError.value[runId]
    } catch (err) {
      metricsState.value[runId] = 'error'
      metricsError.value[runId] = `Could not load the loss history: ${errorMessage(err)}`
    } finally {
      early.delete(runId)
      bump(runId)
    }
  }

  /** The run's points (reading this tracks `metricsVersion`, so computeds and watchers update). */
  function pointsOf(runId: string): readonly MetricPoint[] {
    void metricsVersion.value[runId]
    return points.get(runId) ?? []
  }

  function bump(runId: string): void {
    metricsVersion.value[runId] = (metricsVersion.value[runId] ?? 0) + 1
  }

  /** After a reconnect, events may have been missed: reload every run's points on the chart. */
  async function reloadMetrics(): Promise<void> {
    const ids = [...points.keys()]
    for (const id of ids) {
      points.delete(id)
      delete metricsState.value[id]
    }
    await Promise.all(ids.filter((id) => id === selectedId.value || overlayIds.value.includes(id)).map(ensureMetrics))
    await refreshCheckpoints()
  }

  async function start(config: TrainConfig, name?: string): Promise<string> {
    // The answer carries the run as it now is (its `run` event may arrive before or after).
    const { runId, run } = await lab.runs.start({ config, name: name?.trim() || undefined })
    upsertRun(run)
    await select(runId)
    return runId
  }

  /** A run group: the recipe once per value of one setting, queued one after another; its runs are ticked. */
  async function startGroup(config: TrainConfig, name: string, vary: GroupVary): Promise<ProcOutput<'runs.startGroup'>> {
    const started = await lab.runs.startGroup({ config, name: name.trim(), vary })
    await tick(started.runs.map((r) => r.runId))
    return started
  }

  /** The runs of a group (tag group:<name>), oldest first: the order of its values. */
  function groupRunIds(group: string): string[] {
    const tag = `${GROUP_TAG}${group}`
    return runs.value.filter((r) => r.tags.includes(tag)).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)).map((r) => r.id)
  }

  /** Ticks exactly these runs: the first selected, the others overlaid on its chart. */
  async function tick(ids: string[]): Promise<void> {
    if (!ids.length) return
    overlayIds.value = ids.slice(1)
    for (const id of ids.slice(1)) void ensureMetrics(id)
    await select(ids[0]!)
  }

  /** Ticks every run of a group (the group view: its curves overlaid, its runs side by side). */
  async function showGroup(group: string): Promise<void> {
    await tick(groupRunIds(group))
  }

  /** `here`: take back a run that trains elsewhere (exported to PyTorch) and train it in this lab. */
  async function resume(runId: string, here = false): Promise<void> {
    await lab.runs.resume(here ? { runId, here } : { runId })
  }

  /** Writes the run as a PyTorch DDP training package into `path` (a new or empty folder on the lab's machine). */
  function exportTorch(runId: string, path: string): Promise<TorchPackage> {
    return lab.runs.exportTorch({ runId, path })
  }

  /** A run folder trained elsewhere becomes a run of this lab (shown live), which is selected. */
  async function attach(path: string): Promise<RunSummary> {
    const run = await lab.runs.attach({ path })
    upsertRun(run)
    await select(run.id)
    return run
  }

  async function update(runId: string, patch: RunPatch): Promise<void> {
    upsertRun(await lab.runs.update({ runId, ...patch }))
  }

  async function remove(runId: string): Promise<void> {
    await lab.runs.delete({ runId })
    forget(runId)
  }

  function forget(runId: string): void {
    runs.value = runs.value.filter((r) => r.id !== runId)
    overlayIds.value = overlayIds.value.filter((id) => id !== runId)
    points.delete(runId)
    delete metricsState.value[runId]
    delete metricsVersion.value[runId]
    if (storedColors.value[runId]) {
      const rest = { ...storedColors.value }
      delete rest[runId]
      storedColors.value = rest
    }
    forgetRunPrefs(runId)
    delete checkpointLists.value[runId]
    if (selectedId.value === runId) void select(runs.value[0]?.id ?? null)
  }

  /** Deletes one checkpoint of the selected run (the lab refuses while it trains). */
  async function deleteCheckpoint(file: string): Promise<void> {
    const runId = selectedId.value
    if (!runId) return
    const list = [...(await lab.checkpoints.delete({ runId, file }))].sort((a, b) => b.step - a.step)
    checkpointLists.value[runId] = list
    if (selectedId.value === runId) checkpoints.value = list
  }

  /** Writes a checkpoint of the selected run to `path` on the lab's machine, with a JSON config beside it. */
  async function exportCheckpoint(file: string, path: string, format: CheckpointFormat, overwrite = false): Promise<CheckpointExport> {
    if (!selectedId.value) throw new Error('no run is selected')
    return lab.checkpoints.export({ runId: selectedId.value, file, path, format, overwrite })
  }

  /** A PyTorch tutorial state_dict becomes a new run, which is selected. */
  async function importTorch(path: string, dataset: string, name?: string): Promise<RunSummary> {
    const run = await lab.runs.importTorch({ path, dataset, name: name?.trim() || undefined })
    upsertRun(run)
    await select(run.id)
    return run
  }

  /** The learned (and true, where known) score of a 2-D run at time t on an n×n grid. */
  function scoreField(runId: string, t: number, n: number): Promise<ScoreField> {
    return lab.runs.scoreField({ runId, t, n })
  }

  function upsertRun(run: RunSummary): void {
    const i = runs.value.findIndex((r) => r.id === run.id)
    if (i === -1) runs.value = [run, ...runs.value]
    // Events and answers can cross: an older copy never replaces a newer one.
    else if (run.updatedAt >= runs.value[i]!.updatedAt) runs.value[i] = run
  }

  function handleEvent(e: LabEvent): void {
    switch (e.type) {
      case 'run':
        upsertRun(e.run)
        break
      case 'run-deleted':
        forget(e.runId)
        break
      case 'metrics': {
        const state = metricsState.value[e.runId]
        if (state === 'loading') early.get(e.runId)?.push(...e.points)
        else if (state === 'ready') {
          mergePoints(points.get(e.runId)!, e.points)
          bump(e.runId)
        }
        break
      }
      case 'preview':
        if (e.runId === selectedId.value) preview.value = { step: e.step, dataUrl: e.dataUrl }
        break
      case 'checkpoint':
        // The event carries the kept list after retention: no need to ask for it again.
        checkpointLists.value[e.runId] = e.checkpoints
        if (e.runId === selectedId.value) checkpoints.value = e.checkpoints
        break
    }
  }

  return {
    runs, loaded, error, selectedId, overlayIds, checkpoints, checkpointsError, checkpointLists, preview, metricsVersion, metricsState, metricsError,
    selected, chartRunIds, colors,
    load, select, selectWhenListed, colorOf, setColor, refreshCheckpoints, reloadMetrics, toggleOverlay, ensureMetrics, pointsOf, start, resume, update, remove, handleEvent,
    deleteCheckpoint, exportCheckpoint, importTorch, exportTorch, attach, scoreField, startGroup, groupRunIds, showGroup
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useRunsStore, import.meta.hot))
