import { defineStore, acceptHMRUpdate } from 'pinia'
import { ref } from 'vue'
import type { JobInfo, LabEvent } from '@shared/contract'
import { errorMessage, lab } from '../client'

export interface JobProgress {
  fraction: number
  etaSeconds: number | null
  rate: number | null
  unit: string
}

/** Every job (training, sampling, comparison, likelihood, downloads) with its live progress from `progress` and `job` events. */
export const useJobsStore = defineStore('jobs', () => {
  const jobs = ref<Record<string, JobInfo>>({})
  const progress = ref<Record<string, JobProgress>>({})
  const error = ref<string | null>(null)

  async function load(): Promise<void> {
    try {
      const list = await lab.jobs.list()
      jobs.value = Object.fromEntries(list.map((j) => [j.id, j]))
      error.value = null
    } catch (err) {
      error.value = `Could not list jobs: ${errorMessage(err)}`
    }
  }

  function job(jobId: string | null | undefined): JobInfo | null {
    return jobId ? (jobs.value[jobId] ?? null) : null
  }

  function progressOf(jobId: string | null | undefined): JobProgress | null {
    if (!jobId) return null
    const p = progress.value[jobId]
    if (p) return p
    const j = jobs.value[jobId]
    return j ? { fraction: j.fraction, etaSeconds: j.etaSeconds, rate: null, unit: '' } : null
  }

  async function pause(jobId: string): Promise<void> {
    upsert(await lab.jobs.pause({ jobId }))
  }
  async function resume(jobId: string): Promise<void> {
    upsert(await lab.jobs.resume({ jobId }))
  }
  /** Training: writes a checkpoint, then ends (the run can be resumed later). */
  async function stop(jobId: string): Promise<void> {
    upsert(await lab.jobs.stop({ jobId }))
  }
  async function cancel(jobId: string): Promise<void> {
    upsert(await lab.jobs.cancel({ jobId }))
  }
  /** Moves a queued job one place in its line; the queue comes back with everyone's place. */
  async function move(jobId: string, direction: 'earlier' | 'later'): Promise<void> {
    for (const j of await lab.jobs.move({ jobId, direction })) upsert(j)
  }

  function upsert(j: JobInfo): void {
    jobs.value[j.id] = j
  }

  function handleEvent(e: LabEvent): void {
    if (e.type === 'job') {
      upsert(e.job)
      if (e.job.state === 'finished') progress.value[e.job.id] = { fraction: 1, etaSeconds: 0, rate: null, unit: progress.value[e.job.id]?.unit ?? '' }
    } else if (e.type === 'progress') {
      progress.value[e.jobId] = { fraction: e.fraction, etaSeconds: e.etaSeconds, rate: e.rate, unit: e.unit }
    }
  }

  return { jobs, progress, error, load, job, progressOf, pause, resume, stop, cancel, move, handleEvent }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useJobsStore, import.meta.hot))
