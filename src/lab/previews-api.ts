// The training-preview history of a run: the previews the job kept on disk
// (runs/<id>/previews/, the latest ~30), for the strip under the live preview.
import type { Handlers } from './dispatch'
import type { RunStore } from './runs/store'

export function previewHandlers(runs: RunStore): Pick<Handlers, 'runs.previews'> {
  return {
    'runs.previews': async ({ runId }) => runs.previewHistory(runId)
  }
}
