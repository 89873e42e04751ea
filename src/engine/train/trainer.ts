// One training step of score matching (denoising by default; the objective is chosen by name,
// loss/objectives.ts): loss and gradients (tf.variableGrads), warm-up, global-norm clipping
// (on the device), Adam, EMA. Class-conditional models get labels per batch, some dropped to ∅
// (labels.ts, for classifier-free guidance). All randomness comes from one seeded Rng, so the same
// seed gives the same losses and a checkpoint resumes exactly.
//
// A step only enqueues work: nothing is read back to the host inside it (a read stalls a GPU
// backend until its queue drains, and a synchronous one is impossible on WebGPU in Node). Its
// metrics stay on the device until readPending(), which reads every pending step in one batched
// read and is where a NaN/Inf loss or gradient is found: that step is reported as
// NonFiniteLossError, and the trainer refuses further steps and exportState() from then on (its
// weights took the bad update), so a checkpoint never holds weights past a non-finite step.
import { tf } from '../tf'
import { Rng, type RngState } from '../rng'
import type { Sde } from '../sde/types'
import type { ScoreModel } from '../nets/types'
import { createModel } from '../nets'
import { createSde } from '../sde'
import { bucketMeans, checkObjective, getObjective, getWeighting, type Objective } from '../loss'
import { Adam, assignArray, readArrays, type AdamState, type NamedArray } from './adam'
import { Ema, type EmaState } from './ema'
import { clipFactorTensor, globalNorm, warmupLr } from './clip'
import { resolveTrainerConfig, type TrainerConfig, type TrainerConfigInput } from './config'
import { batchLabels, resolveLabelDropout } from './labels'

export interface StepMetrics {
  /** Number of updates applied so far (this step included). */
  step: number
  loss: number
  /** Mean per-sample loss in 10 equal bins of t over [0, T]; NaN where the batch had no sample. */
  bucketLoss: number[]
  /** Global gradient norm before clipping. */
  gradNorm: number
  lr: number
  imagesPerSec: number
}

/** A step that was enqueued and whose metrics are still on the device (see Trainer.readPending). */
export interface PendingStep {
  /** As StepMetrics.step. */
  readonly step: number
  readonly lr: number
}

/**
 * Thrown by readPending (and by every later step/exportState) when a step's loss or gradient norm
 * is NaN/Inf. `step` is the first bad one; `goodSteps` the finite steps read before it in the same
 * read, so their metrics can still be logged.
 */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError'
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly gradNorm: number,
    readonly goodSteps: StepMetrics[] = []
  ) {
    super(
      `Training diverged at step ${step}: loss ${loss}, gradient norm ${gradNorm}. The weights after it are not kept; ` +
        'resume from the last checkpoint with a lower learning rate, warm-up or gradient clipping.'
    )
  }
}

/** A step's metrics as device tensors until readPending (loss and gradNorm scalars, perSample and t [B]). */
interface Deferred {
  step: number
  lr: number
  batchSize: number
  /** Host milliseconds spent enqueueing the step. */
  enqueueMs: number
  values: [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]
}

/** Everything a checkpoint holds (see checkpoint/checkpoint.ts for the file layout). */
export interface TrainerState {
  step: number
  model: { name: string; shape: number[]; options: Record<string, unknown> }
  sde: { name: string } & Record<string, number | string>
  train: TrainerConfig
  /** Trainable parameters and buffers by name. */
  params: Record<string, NamedArray>
  ema: EmaState | null
  optim: AdamState
  rng: RngState
}

export interface TrainerOptions {
  model: ScoreModel
  sde: Sde
  config?: TrainerConfigInput
  /** Data shape without the batch, when the model's config does not record it. */
  dataShape?: number[]
}

export class Trainer {
  readonly model: ScoreModel
  readonly sde: Sde
  readonly config: TrainerConfig
  readonly rng: Rng
  private readonly adam: Adam
  private readonly ema: Ema | null
  private readonly objective: Objective
  private readonly names: string[]
  private dataShape: number[] | undefined
  private steps = 0
  private pending: Deferred[] = []
  /** Set once a read finds a non-finite step: the weights are past it, so nothing may go on. */
  private failure: NonFiniteLossError | null = null

  constructor(opts: TrainerOptions) {
    this.model = opts.model
    this.sde = opts.sde
    this.config = resolveLabelDropout(resolveTrainerConfig(opts.config), this.model.classes)
    getWeighting(this.config.weighting).check?.(this.sde) // fail at setup, not at step 1
    checkObjective(this.config.objective, this.model.name) // e.g. ssm on a net without second-order gradients
    this.objective = getObjective(this.config.objective)
    this.rng = new Rng(this.config.seed)
    this.names = [...this.model.params.keys()]
    this.adam = new Adam(this.model.params, { beta1: this.config.beta1, beta2: this.config.beta2, eps: this.config.adamEps })
    this.ema = this.config.emaDecay === null ? null : new Ema(this.model.params, this.config.emaDecay)
    this.dataShape = opts.dataShape ?? (this.model.config.shape as number[] | undefined)
  }

  get stepCount(): number {
    return this.steps
  }

  /** Steps enqueued whose metrics have not been read yet. */
  get pendingCount(): number {
    return this.pending.length
  }

  /**
   * Enqueues one optimisation step on a batch [B, ...] (the caller keeps ownership of `batch` and
   * `labels`) and returns without reading anything back; its metrics come from readPending().
   * A class-conditional model needs `labels`, class ids [B] in [0, K) on the host (a tensor would
   * need a device read inside the step); an unconditional one takes none.
   */
  step(batch: tf.Tensor, labels?: ArrayLike<number>): PendingStep {
    if (this.failure) throw this.failure
    const start = performance.now()
    this.dataShape ??= batch.shape.slice(1)
    const lr = warmupLr(this.config.lr, this.config.warmup, this.steps)
    const vars = this.names.map((n) => this.model.params.get(n)!)
    // Drawn before the loss's seeds, and only for conditional models: unconditional runs replay as before.
    const y = batchLabels(labels, this.model.classes, batch.shape[0]!, this.config.labelDropout ?? 0, this.rng)
    const scoreFn = y
      ? (x: tf.Tensor, t: tf.Tensor1D) => this.model.score(x, t, tf.tensor1d(y, 'int32')) // called inside the loss' tidy
      : (x: tf.Tensor, t: tf.Tensor1D) => this.model.score(x, t)
    const c = this.config
    const opts = { eps: c.lossEps, weighting: c.weighting, reduction: c.reduction, projections: c.projections, projectionCount: c.projectionCount }
    // variableGrads runs the forward pass in its own tidy: per-sample losses and times are kept
    // explicitly, and go with the loss and norm into the pending list.
    let kept: tf.Tensor[] = []
    try {
      const [loss, gradNorm] = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const r = this.objective.loss(scoreFn, this.sde, batch, this.rng, opts)
          kept = [tf.keep(r.perSample), tf.keep(r.t)]
          return r.loss
        }, vars)
        const byName: Record<string, tf.Tensor> = {}
        this.names.forEach((n, i) => (byName[n] = grads[vars[i].name]))
        const norm = globalNorm(Object.values(byName))
        const factor = clipFactorTensor(norm, this.config.gradClip)
        if (factor) for (const n of this.names) byName[n] = tf.mul(byName[n], factor)
        this.adam.apply(byName, lr)
        this.ema?.update()
        return [value, norm]
      })
      this.steps += 1
      this.pending.push({ step: this.steps, lr, batchSize: batch.shape[0]!, enqueueMs: performance.now() - start, values: [loss, gradNorm, kept[0]!, kept[1]!] })
      kept = []
      return { step: this.steps, lr }
    } finally {
      tf.dispose(kept)
    }
  }

  /**
   * Reads the metrics of every pending step in one batched device read and frees their tensors.
   * Throws NonFiniteLossError naming the first step whose loss or gradient norm is NaN/Inf (the
   * finite steps before it ride along in the error). A step's imagesPerSec counts its enqueue
   * time plus an equal share of the read's wait, which is where a GPU's work is really waited for.
   */
  async readPending(): Promise<StepMetrics[]> {
    if (this.failure) throw this.failure
    const items = this.pending
    this.pending = []
    if (items.length === 0) return []
    const t0 = performance.now()
    let flat: Float32Array
    try {
      const all = tf.tidy(() => tf.concat(items.flatMap((p) => p.values.map((v) => tf.reshape(v, [-1])))))
      try {
        flat = (await all.data()) as Float32Array
      } finally {
        all.dispose()
      }
    } finally {
      for (const p of items) tf.dispose(p.values)
    }
    const waitMs = (performance.now() - t0) / items.length
    const out: StepMetrics[] = []
    let at = 0
    for (const p of items) {
      const n = p.batchSize
      const loss = flat[at]!
      const gradNorm = flat[at + 1]!
      const perSample = flat.subarray(at + 2, at + 2 + n)
      const t = flat.subarray(at + 2 + n, at + 2 + 2 * n)
      at += 2 + 2 * n
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        this.failure = new NonFiniteLossError(p.step, loss, gradNorm, out)
        throw this.failure
      }
      const seconds = (p.enqueueMs + waitMs) / 1000
      out.push({ step: p.step, loss, bucketLoss: bucketMeans(perSample, t, this.sde.T), gradNorm, lr: p.lr, imagesPerSec: n / Math.max(seconds, 1e-9) })
    }
    return out
  }

  /** The weights to sample with: the EMA shadows when there is an EMA, else the live weights. */
  samplingParams(): ReadonlyMap<string, tf.Variable> {
    return this.ema ? this.ema.shadow : this.model.params
  }

  /**
   * Runs fn with the EMA weights swapped into the model (score_sde's ema.store/copy_to/restore),
   * restoring the live weights afterwards even if fn throws. Without an EMA it just runs fn.
   */
  withEmaWeights<R>(fn: (model: ScoreModel) => R): R {
    if (!this.ema) return fn(this.model)
    const live = new Map<string, tf.Tensor>()
    for (const [n, p] of this.model.params) live.set(n, tf.clone(p))
    try {
      tf.tidy(() => {
        for (const [n, p] of this.model.params) p.assign(this.ema!.shadow.get(n)!)
      })
      return fn(this.model)
    } finally {
      for (const [n, p] of this.model.params) p.assign(live.get(n)!)
      tf.dispose([...live.values()])
    }
  }

  /**
   * Rejects while steps are unread or after a non-finite one: a checkpoint must not hold weights
   * past a bad step. Async: the weights, EMA and Adam state come back in one set of concurrent
   * reads (a synchronous read is impossible on WebGPU in Node). No step may run until it settles.
   */
  async exportState(): Promise<TrainerState> {
    if (this.failure) throw this.failure
    if (this.pending.length) throw new Error(`Trainer.exportState: ${this.pending.length} step(s) not read yet; await readPending() first, so a non-finite step is caught before its weights are saved`)
    if (!this.dataShape) throw new Error('Trainer.exportState: the data shape is unknown (pass dataShape or run a step first)')
    const step = this.steps
    const rng = this.rng.getState()
    const [params, ema, optim] = await Promise.all([readArrays([...this.model.params, ...this.model.buffers]), this.ema ? this.ema.getState() : null, this.adam.getState()])
    // The host-side parts were taken before the reads: a step in between would mismatch them.
    if (this.steps !== step) throw new Error('Trainer.exportState: a step ran while the state was being read')
    return {
      step,
      model: { name: this.model.name, shape: [...this.dataShape], options: structuredClone(this.model.config) },
      sde: this.sde.toConfig(),
      train: { ...this.config },
      params,
      ema,
      optim,
      rng
    }
  }

  /** Restores weights, optimiser, EMA, RNG and step from a state of the same architecture. */
  importState(state: TrainerState): void {
    const expected = new Set([...this.model.params.keys(), ...this.model.buffers.keys()])
    const missing = [...expected].filter((n) => !(n in state.params))
    const extra = Object.keys(state.params).filter((n) => !expected.has(n))
    if (missing.length || extra.length) {
      throw new Error(`Checkpoint does not fit model "${this.model.name}": missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`)
    }
    for (const [n, v] of this.model.params) assignArray(v, state.params[n], n)
    for (const [n, v] of this.model.buffers) {
      // Buffers are Variables in our networks (so saved frozen values, e.g. Fourier W, load in place).
      if (!(v instanceof tf.Variable)) throw new Error(`Buffer ${n} of model "${this.model.name}" is not a tf.Variable and cannot be restored`)
      assignArray(v, state.params[n], n)
    }
    if (this.ema) {
      if (!state.ema) throw new Error('Checkpoint has no EMA weights but this run uses an EMA')
      this.ema.setState(state.ema)
    }
    this.adam.setState(state.optim)
    this.rng.setState(state.rng)
    this.steps = state.step
    // Good weights again: unread steps belonged to the weights just replaced.
    for (const p of this.pending) tf.dispose(p.values)
    this.pending = []
    this.failure = null
  }

  /** Rebuilds model, SDE and trainer from a saved state (e.g. loadCheckpoint's result). */
  static fromState(state: TrainerState): Trainer {
    const sde = createSde(state.sde)
    const model = createModel(state.model.name, { shape: state.model.shape, sde, seed: 0, options: state.model.options })
    const trainer = new Trainer({ model, sde, config: state.train, dataShape: state.model.shape })
    trainer.importState(state)
    return trainer
  }

  /** Disposes the optimiser and EMA state and unread metrics (the model belongs to the caller). */
  dispose(): void {
    for (const p of this.pending) tf.dispose(p.values)
    this.pending = []
    this.adam.dispose()
    this.ema?.dispose()
  }
}
