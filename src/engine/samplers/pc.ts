// Predictor–corrector sampling (score_sde's pc_sampler) for any predictor × corrector pair.
//
// ORDER: at each time t_i the CORRECTOR RUNS FIRST, THEN THE PREDICTOR, as score_sde's code
// does (issue #50). Algorithm 1 of the paper predicts first and corrects after; the code's
// order means no corrector touches the final sample, and the first corrector step works on
// pure prior noise. NFE = n·(predictor NFE + corrector nSteps), e.g. 1000 for the tutorial's
// PC with 500 steps. With `denoise`, the last predictor step returns its noise-free mean.
import { tf } from '../tf'
import type { ScoreFn, Sde } from '../sde/types'
import { getCorrector } from './correctors'
import { getPredictor, type Update } from './predictors'
import { Progress, disposeExcept } from './progress'
import { initialX, resolveCommon, timeGrid, withSteps, type Resolved } from './setup'
import type { SampleResult, SamplerOptions } from './types'

export interface PcSettings {
  predictor: string
  corrector: string
  /** Langevin signal-to-noise ratio (tutorial and score_sde CIFAR-10 VE: 0.16). */
  snr: number
  /** Corrector steps per noise level. */
  nSteps: number
  /** Discretise the probability-flow ODE instead of the reverse SDE (predictors only). */
  probabilityFlow: boolean
}

export const PC_DEFAULTS: PcSettings = { predictor: 'reverse_diffusion', corrector: 'langevin', snr: 0.16, nSteps: 1, probabilityFlow: false }

/**
 * Hooks that turn plain PC sampling into a constrained one (controllable generation): `start`
 * maps x_T to the first state, `project` is applied to every corrector and predictor update.
 * Both run inside tf.tidy and return new tensors.
 */
export interface PcHooks {
  start?: (xT: tf.Tensor) => tf.Tensor
  project?: (u: Update, t: tf.Tensor1D) => Update
}

export function samplePc(scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Partial<PcSettings>): Promise<SampleResult> {
  return runPc(scoreFn, sde, opts)
}

/** The one PC loop; `makeHooks` receives the resolved options (noise stream, batch shape). */
export async function runPc(
  scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Partial<PcSettings>, makeHooks?: (r: Resolved) => PcHooks, label = 'pc'
): Promise<SampleResult> {
  const s = { ...PC_DEFAULTS, ...definedOnly(opts) }
  const r = resolveCommon(sde, opts)
  if (r.n < 2) throw new Error(`${label} needs n >= 2 steps, got ${r.n}`)
  const hooks = makeHooks?.(r) ?? {}
  const project = hooks.project ?? ((u: Update) => u)
  const stepSde = withSteps(sde, r.n)
  const ctx = { sde: stepSde, scoreFn, noise: r.noise }
  const predictor = getPredictor(s.predictor, { ...ctx, probabilityFlow: s.probabilityFlow })
  const corrector = getCorrector(s.corrector, { ...ctx, snr: s.snr, nSteps: s.nSteps })
  const ts = timeGrid(sde.T, r.eps, r.n)
  const dt = (sde.T - r.eps) / (r.n - 1)
  const B = r.fullShape[0]
  const progress = new Progress(opts, sde, sde.T, r.eps, r.n)

  let x = initialX(sde, opts, r)
  if (hooks.start) {
    const xT = x
    x = tf.tidy(() => hooks.start!(xT))
    xT.dispose()
  }
  let xMean = x
  try {
    await progress.report(0, sde.T, x)
    for (let i = 0; i < r.n; i++) {
      const prev = [x, xMean]
      const cur = x
      const next = tf.tidy(() => {
        const t = tf.fill([B], ts[i]) as tf.Tensor1D
        const c = project(corrector.update(cur, t), t)
        return project(predictor.update(c.x, t, dt), t)
      })
      x = next.x
      xMean = next.xMean
      disposeExcept(prev, [x, xMean])
      progress.nfe += predictor.nfe + corrector.nfe
      await progress.report(i + 1, i + 1 < r.n ? ts[i + 1] : Math.max(r.eps - dt, 0), x)
    }
  } catch (err) {
    disposeExcept([x, xMean])
    throw err
  }
  const samples = r.denoise ? xMean : x
  disposeExcept([x, xMean], [samples])
  return progress.result(samples, r.n)
}

/** Drops undefined fields so they do not override defaults in a spread. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

type PredictorOnly = (scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions) => Promise<SampleResult>
const predictorOnly = (predictor: string): PredictorOnly => (scoreFn, sde, opts) =>
  samplePc(scoreFn, sde, { ...opts, predictor, corrector: 'none' })

/** Euler–Maruyama on the reverse SDE (the tutorial's Euler_Maruyama_sampler; NFE = n). */
export const sampleEulerMaruyama = predictorOnly('euler_maruyama')
/** Reverse diffusion predictor alone (score_sde "P" sampling; NFE = n). */
export const sampleReverseDiffusion = predictorOnly('reverse_diffusion')
/** DDPM / SMLD ancestral sampling (NFE = n). */
export const sampleAncestral = predictorOnly('ancestral_sampling')
