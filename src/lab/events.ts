// Fan-out of streamed events to every subscriber (the Electron window, browser sockets, the CLI).
import type { LabEvent } from '../shared/contract'

export type EventListener = (event: LabEvent) => void

export class EventBus {
  private listeners = new Set<EventListener>()

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(event: LabEvent): void {
    for (const l of this.listeners) {
      try {
        l(event)
      } catch {
        // A broken subscriber must not stop the others (or the job that emitted).
      }
    }
  }
}
