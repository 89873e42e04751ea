// Cost before commitment: how long a run with these settings will train on this machine, the
// peak memory of its batch against the backend's limit, and whether it will queue. Step time
// comes from an earlier run of the same model, data and batch on this backend when there is
// one (its logged images/s), else from a probe of a few steps (jobs/manager.probe), cached.
import { isLiveJobState, type RunEstimate, type TrainConfig } from '../shared/contract'
import { getDataset } from './datasets/registry'
import { HandlerError } from './dispatch'
import type { JobManager } from './jobs/manager'
import type { ProbeResult } from './jobs/protocol'
import type { RunStore } from './runs/store'

export interface Estimator {
  estimate(config: TrainConfig): Promise<RunEstimate>
  /** Refuses a batch whose fitted peak memory exceeds the backend's limit, naming the largest that fits. */
  checkFits(config: TrainConfig): Promise<void>
}

const GIB = 2 ** 30
const fmtGb = (b: number) => `${(b / GIB).toFixed(1)} GB`

export function dataShape(dataset: string): number[] {
  const d = getDataset(dataset)
  if (!d) throw new HandlerError({ code: 'bad_request', message: `Unknown data set "${dataset}".` })
  return 'shape' in d ? [...d.shape] : [2]
}

export function createEstimator(opts: { jobs: JobManager; runs: RunStore; dataDir: string; backend?: string }): Estimator {
  const probes = new Map<string, Promise<ProbeResult>>()
  const probe = (config: TrainConfig): Promise<ProbeResult> => {
    // What the cost depends on (not lr, seed or steps).
    const key = JSON.stringify([config.model, config.dataset, config.sde.name, config.weighting, config.reduction, config.ema > 0, config.objective ?? 'dsm', config.projections ?? null])
    let p = probes.get(key)
    if (!p) {
      p = opts.jobs.probe({ dataDir: opts.dataDir, config: { ...config, batchSize: 16 }, shape: dataShape(config.dataset), backend: opts.backend })
      p.catch(() => probes.delete(key)) // a failed probe is tried again next time
      probes.set(key, p)
    }
    return p
  }

  /** Median step time of an earlier run with the same model, data and batch on this backend. */
  const fromHistory = (config: TrainConfig, backend: string): { stepMs: number; name: string } | null => {
    for (const run of opts.runs.list()) {
      const c = run.config
      if (c.model !== config.model || c.dataset !== config.dataset || c.batchSize !== config.batchSize || !run.backend?.startsWith(`${backend} `)) continue
      if ((c.objective ?? 'dsm') !== (config.objective ?? 'dsm')) continue // ssm's extra backward pass costs time
      const rates = opts.runs.metrics(run.id).slice(-200).map((m) => m.imagesPerSec).filter((r): r is number => r !== null && r > 0)
      if (rates.length < 20) continue
      const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)]!
      return { stepMs: (1000 * config.batchSize) / median, name: run.name }
    }
    return null
  }

  const estimate = async (config: TrainConfig): Promise<RunEstimate> => {
    const p = await probe(config)
    const peakBytes = p.memory.base + p.memory.perExample * config.batchSize
    const maxBatch = p.limitBytes === null ? null : p.memory.perExample > 0 ? Math.floor((p.limitBytes - p.memory.base) / p.memory.perExample) : null
    const past = fromHistory(config, p.backend)
    const stepMs = past?.stepMs ?? p.time.base + p.time.perExample * config.batchSize
    const budget = config.maxMinutes ? config.maxMinutes * 60 : Infinity
    const waitsBehind = opts.jobs.list().filter((j) => j.kind === 'train' && isLiveJobState(j.state)).length
    return {
      backend: p.backend,
      stepMs,
      seconds: Math.min((config.steps * stepMs) / 1000, budget),
      basis: past ? `from run “${past.name}” on this machine` : `measured now (a few steps on ${p.backend})`,
      peakBytes,
      limitBytes: p.limitBytes,
      maxBatch,
      fits: p.limitBytes === null || peakBytes <= p.limitBytes,
      waitsBehind
    }
  }

  return {
    estimate,
    async checkFits(config) {
      const e = await estimate(config)
      if (e.fits) return
      const fix = e.maxBatch && e.maxBatch >= 1 ? ` The largest batch that fits is about ${e.maxBatch}; set the batch size to ${2 ** Math.floor(Math.log2(e.maxBatch))} or less.` : ''
      throw new HandlerError({
        code: 'bad_request',
        message: `Batch ${config.batchSize} would need about ${fmtGb(e.peakBytes)} at its peak, more than the ${fmtGb(e.limitBytes!)} the ${e.backend} backend can hold.${fix}`
      })
    }
  }
}
