// The New-run form's checks mirror TrainConfigSchema and the lab's catalogue checks, in words.
import { describe, expect, it } from 'vitest'
import { draftFromConfig, problemsFromError, validateDraft } from '../../src/renderer/src/lib/train-settings'
import { TrainConfigSchema, type TrainConfig } from '../../src/shared/contract'
import type { Catalog } from '../../src/renderer/src/stores/catalog'

// A catalogue shaped like engine.catalog's (this config is type-checked with the renderer, so no lab imports).
const base = { warmup: 0, gradClip: 0, ema: 0, weighting: 'std2', reduction: 'sum' as const, seed: 0, keepLast: 3, keepBest: true, previewEvery: 0, centered: false, randomFlip: false }
const toy: TrainConfig = { ...base, dataset: 'toy-gmm', model: 'mlp', sde: { name: 'vpsde', params: {} }, steps: 2000, batchSize: 256, lr: 1e-3, checkpointEvery: 500 }
const mnist: TrainConfig = { ...base, dataset: 'mnist', model: 'scorenet', sde: { name: 'vesde_tutorial', params: { sigma: 25 } }, steps: 93_750, batchSize: 32, lr: 1e-4, checkpointEvery: 1000, ema: 0.9999 }
const cat: Catalog = {
  models: ['mlp', 'scorenet'].map((name) => ({ name, description: name, shapes: '' })),
  sdes: [
    { name: 'vpsde', description: 'VP', defaults: { betaMin: 0.1, betaMax: 20, N: 1000 } },
    { name: 'vesde_tutorial', description: 'VE', defaults: { sigma: 25 } }
  ],
  weightings: [{ name: 'std2', description: 'σ²' }],
  samplers: [],
  datasets: [
    { name: 'toy-gmm', title: 'Gaussian mixture', shape: [2], size: 0, synthetic: true },
    { name: 'mnist', title: 'MNIST', shape: [28, 28, 1], size: 60000, synthetic: false }
  ],
  presets: [
    { name: 'toy-quick', description: 'toy', config: toy },
    { name: 'mnist-tutorial', description: 'mnist', config: mnist }
  ]
}
const preset = (name: string) => cat.presets.find((p) => p.name === name)!.config

describe('New-run settings validation', () => {
  it('accepts every preset unchanged, giving back the same config', () => {
    for (const p of cat.presets) {
      const { config, problems } = validateDraft(draftFromConfig(p.config), cat)
      expect(problems).toEqual({})
      expect(config).toEqual(TrainConfigSchema.parse(p.config))
    }
  })

  it('explains the schema limits in words next to each setting', () => {
    const d = draftFromConfig(preset('toy-quick'))
    d.numbers.lr = '0'
    d.numbers.batchSize = '5000'
    d.numbers.steps = '12.5'
    d.numbers.ema = '1'
    d.numbers.seed = 'abc'
    d.numbers.warmup = ''
    const { config, problems } = validateDraft(d, cat)
    expect(config).toBeNull()
    expect(problems).toMatchObject({
      lr: 'Must be more than 0.',
      batchSize: 'At most 4,096.',
      steps: 'Must be a whole number.',
      ema: 'At most 0.999999.',
      seed: '“abc” is not a number.',
      warmup: 'Required.'
    })
  })

  it('checks what the lab checks across settings: model for the data, checkpoint interval, SDE parameters', () => {
    const d = draftFromConfig(preset('toy-quick'))
    d.model = 'scorenet'
    d.numbers.checkpointEvery = String(Number(d.numbers.steps) + 1)
    d.sdeParams = { betaMax: '-3' }
    const { problems } = validateDraft(d, cat)
    expect(problems.model).toMatch(/needs the “mlp” model/)
    expect(problems.checkpointEvery).toMatch(/More than the/)
    expect(problems['sde.betaMax']).toBe('Must be more than 0.')
    const img = draftFromConfig(preset('mnist-tutorial'))
    img.model = 'mlp'
    expect(validateDraft(img, cat).problems.model).toMatch(/for 2-D toy data/)
  })

  it('maps the lab refusal issues onto the settings they name', () => {
    const err = Object.assign(new Error('Invalid training settings'), {
      issues: [
        { path: 'config.batchSize', message: 'too big' },
        { path: 'sde.sigma', message: 'SDE vesde has no parameter "sigma".' }
      ]
    })
    expect(problemsFromError(err)).toEqual({ batchSize: 'Too big.', 'sde.sigma': 'SDE vesde has no parameter "sigma".' })
  })

  it('checks ranges whose ends are two settings, against the SDE default for the end left empty', () => {
    const d = draftFromConfig(preset('toy-quick'))
    d.sdeParams = { betaMin: '30' } // above the default betaMax of 20
    expect(validateDraft(d, cat).problems['sde.betaMin']).toBe('Must be at most betaMax (20).')
    d.sdeParams = { betaMax: '0.05' } // below the default betaMin of 0.1
    expect(validateDraft(d, cat).problems['sde.betaMax']).toBe('Must be at least betaMin (0.1).')
    d.sdeParams = { betaMin: '1', betaMax: '10' }
    expect(validateDraft(d, cat).problems).toEqual({})
  })

  it('offers a time budget, empty as 0 for presets without one', () => {
    const d = draftFromConfig(preset('toy-quick'))
    expect(d.numbers.maxMinutes).toBe('0')
    d.numbers.maxMinutes = '-1'
    expect(validateDraft(d, cat).problems.maxMinutes).toBe('Must be at least 0.')
    d.numbers.maxMinutes = '5'
    expect(validateDraft(d, cat).config?.maxMinutes).toBe(5)
  })
})

describe('the objective in the New-run form', () => {
  it('dsm is no field (as older runs); sliced brings its projections; a run read back keeps both', () => {
    const d = draftFromConfig(preset('toy-quick'))
    expect(d).toMatchObject({ objective: 'dsm', projections: 'rademacher' })
    expect('objective' in validateDraft(d, cat).config!).toBe(false)
    d.objective = 'ssm'
    expect(validateDraft(d, cat).config).toMatchObject({ objective: 'ssm', projections: 'rademacher' })
    d.projections = 'gaussian'
    const ssm = validateDraft(d, cat).config!
    expect(ssm).toMatchObject({ objective: 'ssm', projections: 'gaussian' })
    expect(draftFromConfig(ssm)).toMatchObject({ objective: 'ssm', projections: 'gaussian' })
    d.objective = 'dsm' // the projections are not sent with dsm (the lab would refuse them)
    expect(validateDraft(d, cat).config).not.toHaveProperty('projections')
  })

  it("shows the lab's refusal of ssm for an image net next to the Objective field", () => {
    const problems = problemsFromError({ issues: [{ path: 'objective', message: 'Objective "ssm" (sliced score matching) needs the gradient of a gradient, and model "scorenet" cannot give it' }] })
    expect(problems.objective).toMatch(/^Objective "ssm".*scorenet.*\.$/)
  })
})
