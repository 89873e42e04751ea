// Messages between the lab (main thread) and a job's worker thread. Plain data only:
// tensors never cross the boundary; images travel as data URLs or typed arrays.
import type { CheckpointInfo, MetricPoint, TrainConfig } from '../../shared/contract'

export interface TrainJobSpec {
  kind: 'train'
  jobId: string
  runId: string
  dataDir: string
  config: TrainConfig
  /** Continue from the run's last checkpoint (same optimiser, EMA and RNG state). */
  resume: boolean
  backend?: string
}

export type JobSpec = TrainJobSpec

export type ToWorker = { type: 'start'; spec: JobSpec } | { type: 'pause' } | { type: 'resume' } | { type: 'stop' } | { type: 'cancel' }

export type FromWorker =
  | { type: 'backend'; name: string; device: string }
  | { type: 'state'; state: 'running' | 'paused' }
  | { type: 'progress'; fraction: number; etaSeconds: number | null; rate: number | null; unit: string }
  | { type: 'metrics'; points: MetricPoint[] }
  | { type: 'checkpoint'; checkpoint: CheckpointInfo; checkpoints: CheckpointInfo[] }
  | { type: 'preview'; step: number; dataUrl: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'done'; outcome: 'finished' | 'stopped' | 'cancelled'; step: number; trainMs: number }
  | { type: 'failed'; error: string; step: number; trainMs: number }
