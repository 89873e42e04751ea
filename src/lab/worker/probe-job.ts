// The probe before a run: a few training steps of the run's model at two small batches on the
// backend jobs use, so the lab can estimate the run's time and peak memory (engine/train/probe).
import { selectBackend, parseBackendName } from '../../engine/backend/select'
import { usableMemoryBytes } from '../../engine/backend/memory-limit'
import { createModel } from '../../engine/nets'
import { createSde } from '../../engine/sde'
import { Trainer } from '../../engine/train'
import { PROBE_BATCHES, probeTrainingSteps } from '../../engine/train/probe'
import type { FromWorker, ProbeJobSpec, ProbeResult } from '../jobs/protocol'
import { backendTimingsPath } from '../data-dir'

export async function runProbeJob(spec: ProbeJobSpec, post: (msg: FromWorker) => void): Promise<void> {
  const backend = await selectBackend({ force: parseBackendName(spec.backend), timingsFile: backendTimingsPath(spec.dataDir) })
  const { config, shape } = spec
  const make = () => {
    const sde = createSde({ name: config.sde.name, ...config.sde.params })
    const model = createModel(config.model, { shape, sde, seed: config.seed })
    return new Trainer({ model, sde, config: { lr: config.lr, batchSize: config.batchSize, seed: config.seed, weighting: config.weighting, reduction: config.reduction, emaDecay: config.ema > 0 ? config.ema : null, objective: config.objective ?? 'dsm', ...(config.projections ? { projections: config.projections } : {}) }, dataShape: shape })
  }
  const probe = await probeTrainingSteps(make, shape, PROBE_BATCHES)
  const result: ProbeResult = { backend: backend.name, device: backend.device, memory: probe.memory, time: probe.time, limitBytes: usableMemoryBytes(backend.name) }
  post({ type: 'probed', result })
}
