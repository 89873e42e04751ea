// Messages between the lab (main thread) and a job's worker thread. Plain data only:
// tensors never cross the boundary; images travel as data URLs or typed arrays.
import type { CheckpointInfo, InterpolateRequest, JobResult, MetricPoint, ProcInput, SampleRequest, SweepRequest, TrainConfig } from '../../shared/contract'

/** What a job's body may ask of its worker's control channel (pause, stop, cancel between steps). */
export interface JobControl {
  isPaused(): boolean
  /** Resolves when the job may continue (immediately unless paused). */
  gate(): Promise<void>
  stopRequested(): boolean
  cancelRequested(): boolean
}

export interface TrainJobSpec {
  kind: 'train'
  jobId: string
  runId: string
  dataDir: string
  config: TrainConfig
  /** Continue from the run's last checkpoint (same optimiser, EMA and RNG state). */
  resume: boolean
  /** The run's training time so far, for checkpoints written before they recorded their own. */
  priorTrainMs?: number
  backend?: string
}

interface SampleBase {
  jobId: string
  runId: string
  dataDir: string
  backend?: string
}

export interface SampleJobSpec extends SampleBase {
  kind: 'sample'
  request: SampleRequest
}

export interface CompareJobSpec extends SampleBase {
  kind: 'compare'
  request: Omit<SampleRequest, 'sampler' | 'steps' | 'denoise' | 'settings' | 'trajectoryFrames'> & {
    entries: Pick<SampleRequest, 'sampler' | 'steps' | 'denoise' | 'settings'>[]
    /** Image runs: measure each entry through the data set's classifier. */
    metric?: boolean
  }
}

export interface SweepJobSpec extends SampleBase {
  kind: 'sweep'
  request: SweepRequest
}

/** Trains a data set's feature classifier (no run: the file lives in the data folder), or a run's guidance classifier (that run). */
export interface ClassifierJobSpec {
  kind: 'classifier'
  jobId: string
  runId: string | null
  dataDir: string
  dataset: string
  steps?: number
  seed?: number
  backend?: string
  /** Set: train this run's noise-conditional (guidance) classifier instead of the data set's feature classifier. */
  guidanceFor?: string
}

export interface InterpolateJobSpec extends SampleBase {
  kind: 'interpolate'
  request: InterpolateRequest
}

export interface LikelihoodJobSpec extends SampleBase {
  kind: 'likelihood'
  request: ProcInput<'likelihood.start'>
}

/** A few training steps at small batches, for the cost estimate before a run (not a listed job). */
export interface ProbeJobSpec {
  kind: 'probe'
  jobId: string
  runId: null
  dataDir: string
  config: TrainConfig
  /** Data shape without the batch. */
  shape: number[]
  backend?: string
}

export interface ProbeResult {
  backend: string
  device: string
  memory: { base: number; perExample: number }
  time: { base: number; perExample: number }
  /** Usable tensor memory on this backend, or null where it is unknown (GPUs). */
  limitBytes: number | null
}

export type JobSpec = TrainJobSpec | SampleJobSpec | CompareJobSpec | SweepJobSpec | LikelihoodJobSpec | ClassifierJobSpec | InterpolateJobSpec

export type ToWorker = { type: 'start'; spec: JobSpec | ProbeJobSpec } | { type: 'pause' } | { type: 'resume' } | { type: 'stop' } | { type: 'cancel' }

export type FromWorker =
  | { type: 'backend'; name: string; device: string }
  | { type: 'state'; state: 'running' | 'paused' }
  | { type: 'progress'; fraction: number; etaSeconds: number | null; rate: number | null; unit: string }
  /** trainMs: the run's training time so far, all sessions (pauses excluded). */
  | { type: 'metrics'; points: MetricPoint[]; trainMs: number }
  /** checkpoints: the run's kept list after retention, passed on to the UI with the event. */
  | { type: 'checkpoint'; checkpoint: CheckpointInfo; checkpoints: CheckpointInfo[] }
  | { type: 'preview'; step: number; dataUrl: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'done'; outcome: 'finished' | 'stopped' | 'cancelled'; step: number; trainMs: number; result?: JobResult }
  /** The cost probe's answer (not a listed job, so not a JobResult). */
  | { type: 'probed'; result: ProbeResult }
  /** step and trainMs are null when the job failed before it had a trainer (nothing to record). */
  | { type: 'failed'; error: string; step: number | null; trainMs: number | null }
