import { onMounted, onUnmounted, watch } from 'vue'
import { connection, lab } from '../client'
import { useCatalogStore } from '../stores/catalog'
import { useDatasetsStore } from '../stores/datasets'
import { useJobsStore } from '../stores/jobs'
import { useRunsStore } from '../stores/runs'
import { useSamplesStore } from '../stores/samples'
import { useSystemStore } from '../stores/system'

/**
 * The app's one subscription to the lab's event stream, for the lifetime of the component that
 * calls it (App): loads runs and jobs, then routes each event to the stores that keep it. When
 * the connection comes back after a drop (or after the first attempts failed), everything the
 * stores had loaded is loaded again: what streamed meanwhile was missed, and a restarted lab
 * has other jobs.
 */
export function useLabEvents(): void {
  const runs = useRunsStore()
  const jobs = useJobsStore()
  let unsubscribe: (() => void) | null = null
  onMounted(() => {
    unsubscribe = lab.onEvent((e) => {
      runs.handleEvent(e)
      jobs.handleEvent(e)
    })
    void jobs.load()
    void runs.load()
  })
  let wasOffline = false
  watch(
    () => connection.value.status,
    (status) => {
      if (status === 'down' || status === 'unauthorized') wasOffline = true
      else if (status === 'open' && wasOffline) {
        wasOffline = false
        void reloadAll()
      }
    }
  )
  onUnmounted(() => {
    unsubscribe?.()
    unsubscribe = null
  })
}

/** Reloads what the stores show, as they load it at first (the panels' own data included). */
export async function reloadAll(): Promise<void> {
  const system = useSystemStore()
  const jobs = useJobsStore()
  const runs = useRunsStore()
  const datasets = useDatasetsStore()
  const catalog = useCatalogStore()
  const samples = useSamplesStore()
  await Promise.all([
    system.load(),
    jobs.load(),
    runs.load().then(() => runs.reloadMetrics()),
    datasets.loaded || datasets.error ? datasets.load() : null,
    catalog.catalog ? null : catalog.load(),
    samples.runId ? samples.refreshCheckpoints().then(() => samples.loadHistory()) : null
  ])
}
