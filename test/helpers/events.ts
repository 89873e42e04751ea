import type { LabEvent } from '../../src/shared/contract'
import type { EventBus } from '../../src/lab/events'

/** Records every event and lets a test wait for one that matches. */
export class EventRecorder {
  readonly events: LabEvent[] = []
  private waiters: { pred: (e: LabEvent) => boolean; resolve: (e: LabEvent) => void }[] = []
  readonly stop: () => void

  constructor(bus: EventBus) {
    this.stop = bus.subscribe((e) => {
      this.events.push(e)
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(e)) return true
        w.resolve(e)
        return false
      })
    })
  }

  waitFor<T extends LabEvent>(pred: (e: LabEvent) => e is T, timeoutMs?: number): Promise<T>
  waitFor(pred: (e: LabEvent) => boolean, timeoutMs?: number): Promise<LabEvent>
  waitFor(pred: (e: LabEvent) => boolean, timeoutMs = 60_000): Promise<LabEvent> {
    const seen = this.events.find(pred)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for an event; last: ${JSON.stringify(this.events.at(-1))?.slice(0, 300)}`)), timeoutMs)
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) })
    })
  }

  jobState(jobId: string, state: string) {
    return this.waitFor((e) => e.type === 'job' && e.job.id === jobId && e.job.state === state)
  }
}
