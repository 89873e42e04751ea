import { defineStore, acceptHMRUpdate } from 'pinia'
import { computed, ref, watch } from 'vue'
import { isLiveJobState, type DatasetListing, type DatasetStats, type ProcOutput } from '@shared/contract'
import { errorMessage, lab } from '../client'
import { useJobsStore } from './jobs'

export type DatasetPreview = ProcOutput<'datasets.preview'>

/**
 * The data sets with their state, the live download/import job of each, and for a verified
 * set its stats and preview grid (loaded on demand, kept until the set changes); for each 2-D
 * toy set a density image of fresh samples. Errors are
 * kept per set so each card can say what went wrong next to the set it concerns.
 */
export const useDatasetsStore = defineStore('datasets', () => {
  const jobs = useJobsStore()
  const sets = ref<DatasetListing[]>([])
  const loaded = ref(false)
  const error = ref<string | null>(null)
  const selectedName = ref<string | null>(null)
  /** Data set → its live get job (from datasets.get or the listing). */
  const jobIds = ref<Record<string, string>>({})
  const busy = ref<Record<string, 'get' | 'import' | 'verify' | 'delete' | 'cancel' | undefined>>({})
  const errors = ref<Record<string, string | undefined>>({})
  /** What happened last that is not an error (a cancelled download). */
  const notes = ref<Record<string, string | undefined>>({})
  const stats = ref<Record<string, DatasetStats | undefined>>({})
  const previews = ref<Record<string, DatasetPreview | undefined>>({})
  const detailError = ref<Record<string, string | undefined>>({})
  /** The seed of the toy sets' fresh samples ("New samples" draws again). */
  const toySeed = ref(0)
  const toyError = ref<string | null>(null)

  const selected = computed(() => sets.value.find((s) => s.name === selectedName.value) ?? null)
  const imageSets = computed(() => sets.value.filter((s) => s.kind === 'image'))
  const toySets = computed(() => sets.value.filter((s) => s.kind === 'toy'))

  async function load(): Promise<void> {
    try {
      const list = await lab.datasets.list()
      sets.value = list
      for (const s of list) if (s.jobId) jobIds.value[s.name] = s.jobId
      loaded.value = true
      error.value = null
      if (!selectedName.value) selectedName.value = (list.find((s) => s.kind === 'image' && s.state === 'verified') ?? list[0])?.name ?? null
    } catch (err) {
      error.value = `Could not list the data sets: ${errorMessage(err)}`
    }
  }

  function upsert(listing: DatasetListing): void {
    const i = sets.value.findIndex((s) => s.name === listing.name)
    if (i === -1) sets.value.push(listing)
    else sets.value[i] = listing
    // Stats and previews belong to the files that were there; drop them when the state changes.
    if (listing.state !== 'verified') forgetDetails(listing.name)
  }

  function forgetDetails(name: string): void {
    delete stats.value[name]
    delete previews.value[name]
    delete detailError.value[name]
  }

  async function run(name: string, what: NonNullable<(typeof busy.value)[string]>, fn: () => Promise<void>, verb: string): Promise<boolean> {
    busy.value[name] = what
    errors.value[name] = undefined
    notes.value[name] = undefined
    try {
      await fn()
      return true
    } catch (err) {
      errors.value[name] = `Could not ${verb}: ${errorMessage(err)}`
      return false
    } finally {
      busy.value[name] = undefined
    }
  }

  /** Download (or copy the system's copy) as a job; its progress comes through the jobs store. */
  async function get(name: string): Promise<void> {
    await run(name, 'get', async () => {
      const { jobId } = await lab.datasets.get({ name })
      jobIds.value[name] = jobId
    }, 'start getting the files')
  }

  async function cancel(name: string): Promise<void> {
    const jobId = jobIds.value[name]
    if (jobId) await run(name, 'cancel', async () => void (await jobs.cancel(jobId)), 'cancel the download')
  }

  async function importFrom(name: string, path: string): Promise<boolean> {
    return run(name, 'import', async () => {
      const listing = await lab.datasets.import({ name, path: path.trim() })
      forgetDetails(name) // new files: new stats and preview
      upsert(listing)
      if (selectedName.value === name) void loadDetails(name)
    }, 'import')
  }

  async function verify(name: string): Promise<void> {
    await run(name, 'verify', async () => upsert(await lab.datasets.verify({ name })), 'verify the files')
  }

  async function remove(name: string): Promise<void> {
    await run(name, 'delete', async () => {
      await lab.datasets.delete({ name })
      forgetDetails(name)
      await load()
    }, 'delete the files')
  }

  /** Stats and the preview grid of a verified image set (computed once by the lab, then cached). */
  async function loadDetails(name: string): Promise<void> {
    const set = sets.value.find((s) => s.name === name)
    if (!set || set.kind !== 'image' || set.state !== 'verified') return
    detailError.value[name] = undefined
    try {
      const [p, s] = await Promise.all([
        previews.value[name] ? Promise.resolve(previews.value[name]!) : lab.datasets.preview({ name, perClass: 8, seed: 0 }),
        stats.value[name] ? Promise.resolve(stats.value[name]!) : lab.datasets.stats({ name })
      ])
      previews.value[name] = p
      stats.value[name] = s
    } catch (err) {
      detailError.value[name] = `Could not read ${set.title}: ${errorMessage(err)}`
    }
  }

  /** A density image of fresh samples of every toy set (each drawn once per seed). */
  async function loadToyPreviews(): Promise<void> {
    const seed = toySeed.value
    try {
      await Promise.all(
        toySets.value
          .filter((t) => !previews.value[t.name])
          .map(async (t) => {
            const p = await lab.datasets.preview({ name: t.name, seed })
            if (toySeed.value === seed) previews.value[t.name] = p
          })
      )
      toyError.value = null
    } catch (err) {
      toyError.value = `Could not draw the toy sets: ${errorMessage(err)}`
    }
  }

  /** Draws new samples of every toy set. */
  async function resampleToys(): Promise<void> {
    toySeed.value = (toySeed.value + 1) % 2 ** 31
    for (const t of toySets.value) delete previews.value[t.name]
    await loadToyPreviews()
  }

  function jobOf(name: string) {
    return jobs.job(jobIds.value[name])
  }

  // When a get job ends, the set's state changed (or the job failed): list again and say why.
  watch(
    () => Object.entries(jobIds.value).map(([name, id]) => [name, jobs.job(id)?.state] as const),
    (states) => {
      for (const [name, state] of states) {
        if (!state || isLiveJobState(state)) continue
        const job = jobs.job(jobIds.value[name])
        if (state === 'failed') errors.value[name] = `Getting the files failed: ${job?.error ?? 'unknown error'}. Try again, or import files you already have.`
        if (state === 'cancelled') notes.value[name] = 'Cancelled. Files that finished downloading are kept: getting it again fetches only the rest.'
        delete jobIds.value[name]
        void load()
      }
    }
  )

  return {
    sets, loaded, error, selectedName, jobIds, busy, errors, notes, stats, previews, detailError, toySeed, toyError,
    selected, imageSets, toySets,
    load, get, cancel, importFrom, verify, remove, loadDetails, loadToyPreviews, resampleToys, jobOf
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useDatasetsStore, import.meta.hot))
