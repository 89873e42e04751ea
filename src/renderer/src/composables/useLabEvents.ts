import { onMounted, onUnmounted, watch } from 'vue'
import { connection, lab } from '../client'
import { useJobsStore } from '../stores/jobs'
import { useRunsStore } from '../stores/runs'

/**
 * The app's one subscription to the lab's event stream, for the lifetime of the component that
 * calls it (App): loads runs and jobs, then routes each event to the stores that keep it.
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
  // The WebSocket reconnects by itself after a drop; what streamed meanwhile is reloaded.
  let wasClosed = false
  watch(
    () => connection.value.status,
    (status) => {
      if (status === 'closed') wasClosed = true
      else if (status === 'open' && wasClosed) {
        wasClosed = false
        void jobs.load()
        void runs.load().then(() => runs.reloadMetrics())
      }
    }
  )
  onUnmounted(() => {
    unsubscribe?.()
    unsubscribe = null
  })
}
