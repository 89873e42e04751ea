// What the engine offers (models, SDEs, weightings, data sets) and the presets that train
// well, served to the UI pickers and the CLI. Names are checked here, at the boundary.
import { MODELS } from '../engine/nets'
import { listSdes, SDES } from '../engine/sde'
import { OBJECTIVES, WEIGHTINGS } from '../engine/loss'
import { listSamplers, type SettingInfo, type SettingRange } from '../engine/samplers'
import { createToy, GmmToy } from '../engine/toy'
import { DATASETS, getDataset } from './datasets/registry'
import { HandlerError } from './dispatch'
import { SAMPLER_SETTING_LIMITS, type ProcOutput, type TrainConfig } from '../shared/contract'

const MODEL_INFO: Record<string, { description: string; shapes: string }> = {
  scorenet: { description: "Song's tutorial U-Net (1.1M parameters at 28×28×1): Fourier time embedding, GroupNorm, transposed-conv decoder", shapes: '28×28×1, 32×32×3' },
  scorenet_color: { description: 'A wider U-Net for 32×32 colour images (CIFAR-10)', shapes: '32×32×3' },
  mixer: { description: 'MLP-Mixer with time conditioning: much faster to train than a U-Net, for quick experiments', shapes: '28×28×1, 32×32×3' },
  mlp: { description: 'A small time-conditional MLP for 2-D toy data', shapes: '2' }
}

const base = {
  warmup: 0,
  gradClip: 0,
  ema: 0,
  weighting: 'std2',
  reduction: 'sum' as const,
  seed: 0,
  keepLast: 3,
  keepBest: true,
  previewEvery: 0,
  centered: false,
  randomFlip: false
}

export const PRESETS: { name: string; description: string; config: TrainConfig }[] = [
  {
    name: 'toy-quick',
    description: 'A 2-D Gaussian mixture with a small MLP and a VE SDE sized to the data (σ 0.05 → 3): 8 separate modes in under a minute',
    // Measured with the CLI on the 2-core dev machine (native backend): `score-lab train --dataset
    // toy-gmm` runs its 2,000 steps in 34 s wall (29 s of training) at load ≈ 1.4, 39 s at load ≈ 3
    // (other jobs sharing the cores). The old recipe (VP SDE, lr 1e-3, no EMA) took the same 34 s
    // back to back, and gave a ring. Samples of 1,024 points, against 1,024 fresh true ones (src/engine/metrics):
    //   old  EM  log p −3.26 nats, 55% within 2σ of a mode;  ODE −3.51, 50%
    //   new  EM  log p −2.40,      79%;                        ODE −2.15, 85%   (true data −2.12, 86%)
    // Why each setting:
    // - VE with σ_min 0.05, σ_max 3: σ is log-uniform in t, so 56% of training draws have σ < 0.5,
    //   where the 8 modes (1.5 apart) separate; VP puts 17% there. σ_max 3 ≈ the data's spread
    //   (NCSNv2's rule gives the max pairwise distance, ≈ 4.5; the exact score samples as well at
    //   3): a larger σ_max magnifies the network's errors at large σ into a shift of the samples'
    //   mean, which moves mass between modes. σ_min 0.05 (the moons' and rings' noise) keeps
    //   draws off tiny σ, where the score is the trivial per-mode Gaussian, and sharpened the
    //   rings (log p −2.4 against −7.4 at σ_min 0.01; true −1.4).
    // - lr 2e-3 with EMA 0.999 (score_sde's VE decay, warmed up as (1+n)/(10+n): ≈ 0.995 at the end).
    // - The MLP keeps its defaults (128 wide, 3 layers): a run config has no model options.
    config: {
      ...base,
      dataset: 'toy-gmm',
      model: 'mlp',
      sde: { name: 'vesde', params: { sigmaMin: 0.05, sigmaMax: 3 } },
      steps: 2000,
      batchSize: 256,
      lr: 2e-3,
      ema: 0.999,
      checkpointEvery: 500
    }
  },
  {
    name: 'fashion-mnist-tutorial',
    description: "Song's tutorial: ScoreNet, VE SDE σ = 25, Adam 1e-4, batch 64 (loss ≈ 20 after long training)",
    config: { ...base, dataset: 'fashion-mnist', model: 'scorenet', sde: { name: 'vesde_tutorial', params: {} }, steps: 93_750, batchSize: 64, lr: 1e-4, checkpointEvery: 1000 }
  },
  {
    name: 'mnist-tutorial',
    description: "Song's tutorial on MNIST: ScoreNet, VE SDE σ = 25, Adam 1e-4, batch 32, 50 epochs",
    config: { ...base, dataset: 'mnist', model: 'scorenet', sde: { name: 'vesde_tutorial', params: {} }, steps: 93_750, batchSize: 32, lr: 1e-4, checkpointEvery: 1000 }
  },
  {
    name: 'cifar10-color',
    description: 'CIFAR-10 in [−1, 1] with flips, the colour U-Net, VP SDE, score_sde optimiser settings and EMA',
    config: {
      ...base,
      dataset: 'cifar10',
      model: 'scorenet_color',
      sde: { name: 'vpsde', params: {} },
      steps: 200_000,
      batchSize: 128,
      lr: 2e-4,
      warmup: 5000,
      gradClip: 1,
      ema: 0.9999,
      reduction: 'mean',
      centered: true,
      randomFlip: true,
      checkpointEvery: 5000
    }
  }
]

/**
 * Sampler settings whose good default depends on the SDE, by sampler and SDE name: the one
 * table. Sample and compare jobs fill them in where a request leaves them out (so the CLI gets
 * them too), and the catalogue serves them to the sampler forms (`sdeDefaults`).
 * pc's Langevin snr: 0.16 for VE (the tutorial and score_sde's CIFAR-10 VE config); 0.01 for
 * VP and sub-VP (Gotta Go Fast's VP reverse-diffusion + Langevin baseline, greg2451's default;
 * score_sde's own VP/sub-VP configs run EM without a corrector).
 */
export const SDE_SAMPLER_DEFAULTS: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number | string | boolean>>>>>> = {
  pc: {
    vesde: { snr: 0.16 },
    vesde_tutorial: { snr: 0.16 },
    vpsde: { snr: 0.01 },
    subvpsde: { snr: 0.01 }
  }
}

/**
 * Sampler settings whose good default depends on the data range, by sampler and range (the run's
 * `centered`): adaptive_sde's atol is about one intensity level, 0.0078 for data in [−1, 1]
 * (the engine's default, Gotta Go Fast's) and 0.0039 for [0, 1].
 */
export const DATA_RANGE_SAMPLER_DEFAULTS: Readonly<Record<string, Readonly<Partial<Record<'centered' | 'zeroOne', Readonly<Record<string, number | string | boolean>>>>>>> = {
  adaptive_sde: { zeroOne: { atol: 0.0039 } }
}

/**
 * The defaults of a sampler that depend on the run ({} when none differ from the sampler's own):
 * its SDE's, and given `centered` (the run's data range) that range's.
 */
export function sdeSamplerDefaults(sampler: string, sde: string, centered?: boolean): Record<string, number | string | boolean> {
  const byRange = centered === undefined ? undefined : DATA_RANGE_SAMPLER_DEFAULTS[sampler]?.[centered ? 'centered' : 'zeroOne']
  return { ...(SDE_SAMPLER_DEFAULTS[sampler]?.[sde] ?? {}), ...(byRange ?? {}) }
}

/** A toy set's classes: toy-gmm's components ("mode 0" …); the others have none. */
function toyClassNames(name: string): string[] {
  const toy = createToy(name)
  return toy instanceof GmmToy ? Array.from({ length: toy.componentCount }, (_, k) => `mode ${k}`) : []
}

const PRESET_FOR: Record<string, string> = {
  'toy-gmm': 'toy-quick',
  'toy-rings': 'toy-quick',
  'toy-moons': 'toy-quick',
  'fashion-mnist': 'fashion-mnist-tutorial',
  mnist: 'mnist-tutorial',
  cifar10: 'cifar10-color'
}

/** The preset that trains well on a data set (the CLI's defaults, and what imported weights run under). */
export function presetFor(dataset: string): (typeof PRESETS)[number] | undefined {
  return PRESETS.find((p) => p.name === PRESET_FOR[dataset])
}

/**
 * A setting's bounds: those requests are checked against (the contract's SAMPLER_SETTING_LIMITS),
 * narrowed by the sampler's own schema (ddim's n ≥ 2; heun's ρ > 0 where the contract has none).
 */
function settingRange(key: string, own: SettingRange | undefined): SettingRange | undefined {
  const limit = Object.hasOwn(SAMPLER_SETTING_LIMITS, key) ? SAMPLER_SETTING_LIMITS[key]! : undefined
  if (!limit) return own
  // Each side from whichever bound is tighter (at equal bounds, an exclusive one).
  const ownMin = own?.min !== undefined && (own.min > limit.min || (own.min === limit.min && own.gt))
  const ownMax = own?.max !== undefined && (own.max < limit.max || (own.max === limit.max && own.lt))
  const [min, gt] = ownMin ? [own!.min!, own!.gt] : [limit.min, limit.gt]
  const [max, lt] = ownMax ? [own!.max!, own!.lt] : [limit.max, false]
  return { min, max, ...(gt ? { gt } : {}), ...(lt ? { lt } : {}) }
}

/** A sampler's settings as engine.catalog serves them: the engine's, with the bounds requests are checked against. */
function catalogSettings(settings: SettingInfo[]): SettingInfo[] {
  return settings.map((s) => {
    const range = s.type === 'number' || s.type === 'integer' ? settingRange(s.key, s.range) : undefined
    const { range: _own, ...rest } = s
    return range ? { ...rest, range } : rest
  })
}

export function catalog(): ProcOutput<'engine.catalog'> {
  return {
    models: Object.keys(MODELS).map((name) => ({ name, description: MODEL_INFO[name]?.description ?? name, shapes: MODEL_INFO[name]?.shapes ?? '' })),
    sdes: listSdes(),
    weightings: Object.entries(WEIGHTINGS).map(([name, w]) => ({ name, description: w.description })),
    samplers: listSamplers().map(({ name, description, defaults, settings }) => {
      // The settings that take one of a fixed set of names (pc's predictor and corrector: the
      // engine's PREDICTORS and CORRECTORS; ode's method), by key.
      const choices = Object.fromEntries(settings.flatMap((s) => (s.choices ? [[s.key, s.choices]] : [])))
      return {
        name,
        description,
        defaults,
        ...(SDE_SAMPLER_DEFAULTS[name] ? { sdeDefaults: structuredClone(SDE_SAMPLER_DEFAULTS[name]) as Record<string, Record<string, unknown>> } : {}),
        ...(DATA_RANGE_SAMPLER_DEFAULTS[name] ? { rangeDefaults: structuredClone(DATA_RANGE_SAMPLER_DEFAULTS[name]) as Record<string, Record<string, unknown>> } : {}),
        ...(Object.keys(choices).length ? { choices } : {}),
        settings: catalogSettings(settings)
      }
    }),
    datasets: DATASETS.map((d) =>
      d.kind === 'toy'
        ? { name: d.name, title: d.title, shape: [2], size: 0, synthetic: true, classNames: toyClassNames(d.name) }
        : { name: d.name, title: d.title, shape: [d.shape[0], d.shape[1], d.shape[2]], size: d.trainSize, synthetic: false, classNames: [...d.classNames] }
    ),
    presets: PRESETS
  }
}

/** Checks every name in a training config against the registries; throws one clear error listing all problems. */
export function checkTrainConfig(config: TrainConfig): void {
  const problems: { path: string; message: string }[] = []
  const choose = (path: string, value: string, names: string[], what: string) => {
    if (!names.includes(value)) problems.push({ path, message: `unknown ${what} "${value}"; choose one of: ${names.join(', ')}` })
  }
  choose('dataset', config.dataset, DATASETS.map((d) => d.name), 'data set')
  choose('model', config.model, Object.keys(MODELS), 'model')
  choose('sde.name', config.sde.name, Object.keys(SDES), 'SDE')
  choose('weighting', config.weighting, Object.keys(WEIGHTINGS), 'weighting')
  // The objective's own limits (ssm needs second-order gradients, which not every net has).
  const objective = config.objective ?? 'dsm'
  const objectiveProblem = Object.hasOwn(MODELS, config.model) ? OBJECTIVES[objective]?.problemWith(config.model) : null
  if (objectiveProblem) problems.push({ path: 'objective', message: objectiveProblem })
  if (config.projections && objective !== 'ssm') problems.push({ path: 'projections', message: 'projections apply only to objective "ssm" (sliced score matching)' })
  const sde = SDES[config.sde.name]
  if (sde) {
    for (const key of Object.keys(config.sde.params)) {
      if (!(key in sde.defaults)) problems.push({ path: `sde.${key}`, message: `SDE ${config.sde.name} has no parameter "${key}" (it takes ${Object.keys(sde.defaults).join(', ')})` })
    }
  }
  const ds = getDataset(config.dataset)
  if (ds && ds.kind === 'image' && config.batchSize > ds.trainSize) {
    problems.push({ path: 'batchSize', message: `batch size ${config.batchSize} is larger than the ${config.dataset} training set (${ds.trainSize})` })
  }
  if (ds && ds.kind === 'toy' && config.model !== 'mlp') problems.push({ path: 'model', message: `2-D toy data needs the "mlp" model, not "${config.model}"` })
  if (ds && ds.kind === 'image' && config.model === 'mlp') problems.push({ path: 'model', message: `"mlp" is for 2-D toy data; for images choose scorenet, scorenet_color or mixer` })
  if (config.checkpointEvery > config.steps) problems.push({ path: 'checkpointEvery', message: `checkpoint interval ${config.checkpointEvery} exceeds the ${config.steps} steps of the run (a checkpoint is also written at the end)` })
  if (problems.length) {
    throw new HandlerError({ code: 'bad_request', message: `Invalid training settings: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, issues: problems })
  }
}
