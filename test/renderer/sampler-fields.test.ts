// The sampler settings form: fields from the catalogue's settings (or, for callers that have
// only them, its defaults), problems in words, and the export file names that carry the
// settings; the comparison figure's layout. Every setting of every sampler in the real
// catalogue gets its field (test/shared/sampler-settings.test.ts checks the catalogue, the CLI
// and `score-lab samplers` against the engine's registry).
import { describe, expect, it } from 'vitest'
import { LIMITS, type ProcOutput } from '@shared/contract'
import {
  applicableFields, choiceProblems, commonProblems, initialChoice, sampleFileName, samplerFields, settingApplies, settingFields, stepsRange, type CatalogSetting
} from '../../src/renderer/src/lib/sampler-fields'
import { figureLayout } from '../../src/renderer/src/lib/compare-figure'
import { integerScale } from '../../src/renderer/src/lib/download-url'

// The engine.catalog defaults of each sampler (as served by the lab; test/samplers checks the engine side).
const common = { batchSize: 64, seed: 0, denoise: true, every: 0 }
const catalog: Record<string, Record<string, unknown>> = {
  euler_maruyama: common,
  pc: { ...common, predictor: 'reverse_diffusion', corrector: 'langevin', snr: 0.16, nSteps: 1, probabilityFlow: false },
  ald: { ...common, n: 10, stepsPerLevel: 100, stepLr: 2e-5 },
  ode: { ...common, method: 'rk45', rtol: 1e-5, atol: 1e-5 }
}
// Its `choices` (from the engine's registries: test/shared/samplers.test.ts checks them).
const choices: Record<string, Record<string, string[]>> = {
  pc: { predictor: ['euler_maruyama', 'reverse_diffusion', 'ancestral_sampling', 'none'], corrector: ['langevin', 'ald', 'none'] },
  ode: { method: ['rk45', 'rk4', 'euler'] }
}

// The catalogue's settings of heun and the common ones, as the lab serves them (own first).
const commonSettings: CatalogSetting[] = [
  { key: 'batchSize', label: 'Batch size', type: 'integer', default: 64, description: 'Samples per batch', range: { min: 1, max: 4096 } },
  { key: 'seed', label: 'Seed', type: 'integer', default: 0, description: 'Same seed → same initial noise', range: { min: 0, max: 2147483647 } },
  { key: 'eps', label: 'End time ε', type: 'number', description: 'End time ε', range: { min: 1e-8, max: 0.5 } },
  { key: 'n', label: 'Noise levels', type: 'integer', default: 18, description: 'Noise levels (NFE 2n − 1)', range: { min: 2, max: 100000 } },
  { key: 'denoise', label: 'Denoise', type: 'boolean', default: true, description: 'Last step without noise' },
  { key: 'every', label: 'Report every', type: 'integer', default: 0, description: 'Report x_t every k steps', range: { min: 0, max: 100000 } }
]
const heunSettings: CatalogSetting[] = [
  { key: 'rho', label: 'ρ', type: 'number', default: 7, description: 'ρ of the Karras σ schedule', range: { min: 0, gt: true } },
  { key: 'sChurn', label: 'S_churn', type: 'number', default: 0, description: 'S_churn: noise re-injected per step', range: { min: 0 } },
  { key: 'sTmax', label: 'S_tmax', type: 'number', description: 'Churn only at σ ≤ sTmax (default: no limit)', range: { min: 0, gt: true } },
  { key: 'schedule', label: 'Schedule', type: 'choice', default: 'karras', description: 'Noise levels', choices: ['karras', 'logSNR'] },
  { key: 'safety', label: 'Safety', type: 'number', default: 0.9, description: 'Safety factor', range: { min: 0, gt: true, max: 1, lt: true } },
  ...commonSettings
]
const heun = { defaults: { batchSize: 64, seed: 0, n: 18, denoise: true, every: 0, rho: 7, sChurn: 0, schedule: 'karras', safety: 0.9 }, settings: heunSettings }

/**
 * engine.catalog as the lab serves it. Imported by a computed path: this file is type-checked
 * with the renderer (no Node, no lab), which must not follow the import into the lab and engine.
 */
async function labCatalog(): Promise<ProcOutput<'engine.catalog'>> {
  const lab = '../../src/lab/catalog'
  const { catalog } = (await import(/* @vite-ignore */ lab)) as { catalog: () => ProcOutput<'engine.catalog'> }
  return catalog()
}

/** Settings the request carries as fields of its own, and the form's fields for them (steps, images, seed, ε, frames). */
const REQUEST_KEYS = ['n', 'batchSize', 'seed', 'eps', 'every']

describe('sampler fields', () => {
  it('every setting of every sampler in the catalogue yields a form field, or is one of the request’s own', async () => {
    const { samplers } = await labCatalog()
    expect(samplers.map((x) => x.name)).toEqual(expect.arrayContaining(['pc', 'ode', 'ald', 'ddim', 'heun', 'dpmpp_2m', 'adaptive_sde']))
    for (const x of samplers) {
      const fields = settingFields(x.settings)
      for (const s of x.settings) {
        const where = `${x.name}.${s.key}`
        const field = fields.find((f) => f.key === s.key)
        expect(field === undefined, where).toBe(REQUEST_KEYS.includes(s.key))
        if (!field) continue
        expect(field, where).toMatchObject({ kind: s.type, label: s.label, help: s.description })
        expect(field.optional === true, where).toBe(s.default === undefined)
        expect(field.help, where).not.toBe('')
      }
      // The form starts from the defaults, which pass its own checks.
      expect(choiceProblems(initialChoice(x.name, x.defaults), x.defaults, x.settings), x.name).toEqual({})
    }
  })

  it("makes a field of each of the catalogue's settings, with its label, description and range, except those the request carries", () => {
    const fields = settingFields(heunSettings)
    expect(fields.map((f) => [f.key, f.kind, f.label])).toEqual([
      ['rho', 'number', 'ρ'], ['sChurn', 'number', 'S_churn'], ['sTmax', 'number', 'S_tmax'], ['schedule', 'choice', 'Schedule'], ['safety', 'number', 'Safety'], ['denoise', 'boolean', 'Denoise']
    ])
    expect(fields.find((f) => f.key === 'rho')).toMatchObject({ help: 'ρ of the Karras σ schedule', range: { min: 0, gt: true } })
    expect(fields.find((f) => f.key === 'schedule')?.choices).toEqual(['karras', 'logSNR'])
    // A setting without a default may stay empty (the sampler's own choice); the others may not.
    expect(fields.filter((f) => f.optional).map((f) => f.key)).toEqual(['sTmax'])
    // Steps are the request's own field, bounded by the sampler's n (heun needs 2 noise levels).
    expect(stepsRange(heunSettings)).toMatchObject({ min: 2, max: LIMITS.samplerSteps.max, int: true })
    expect(stepsRange(undefined)).toBe(LIMITS.samplerSteps)
  })

  it("checks each setting against the catalogue's range, in words", () => {
    const c = initialChoice('heun', heun.defaults)
    expect(c.settings).toEqual({ rho: 7, sChurn: 0, schedule: 'karras', safety: 0.9, denoise: true })
    expect(choiceProblems(c, heun.defaults, heunSettings)).toEqual({})
    const bad = { ...c, steps: 1, settings: { ...c.settings, rho: 0, sChurn: -1, sTmax: NaN, safety: 1 } }
    expect(choiceProblems(bad, heun.defaults, heunSettings)).toEqual({
      steps: 'A whole number from 2 to 100,000.',
      rho: 'Must be more than 0.',
      sChurn: 'Must be at least 0.',
      sTmax: 'Enter a number.',
      safety: 'Must be less than 1.'
    })
    expect(choiceProblems({ ...c, settings: { ...c.settings, sTmax: 80 } }, heun.defaults, heunSettings)).toEqual({})
    // From the defaults alone (no catalogue settings) only the contract's bounds are known: no false alarms.
    expect(choiceProblems(bad, heun.defaults)).toEqual({})
  })

  it('offers each sampler its own settings from its defaults alone, never the keys the request carries itself', () => {
    expect(samplerFields(catalog.pc!).map((f) => f.key)).toEqual(['denoise', 'predictor', 'corrector', 'snr', 'nSteps', 'probabilityFlow'])
    expect(samplerFields(catalog.ode!, choices.ode).map((f) => [f.key, f.kind])).toEqual([['denoise', 'boolean'], ['method', 'choice'], ['rtol', 'number'], ['atol', 'number']])
    // The pick lists are the catalogue's; without them a string setting is a text field.
    expect(samplerFields(catalog.pc!, choices.pc).find((f) => f.key === 'predictor')).toMatchObject({ kind: 'choice', choices: choices.pc!.predictor })
    expect(samplerFields(catalog.ode!).find((f) => f.key === 'method')?.kind).toBe('text')
    expect(samplerFields(catalog.euler_maruyama!).map((f) => f.key)).toEqual(['denoise'])
    expect(samplerFields(catalog.ald!).map((f) => f.key)).toEqual(['denoise', 'stepsPerLevel', 'stepLr'])
  })

  it('starts from the catalogue defaults (ald from its L, the others from the SDE)', () => {
    expect(initialChoice('pc', catalog.pc)).toEqual({ sampler: 'pc', steps: null, settings: { denoise: true, predictor: 'reverse_diffusion', corrector: 'langevin', snr: 0.16, nSteps: 1, probabilityFlow: false } })
    expect(initialChoice('ald', catalog.ald).steps).toBe(10)
  })

  it('says what is wrong with a value, next to its field', () => {
    const c = initialChoice('pc', catalog.pc)
    expect(choiceProblems(c, catalog.pc)).toEqual({})
    expect(choiceProblems({ ...c, steps: 0, settings: { ...c.settings, snr: -1, nSteps: 1.5 } }, catalog.pc)).toEqual({
      steps: 'A whole number from 1 to 100,000.',
      snr: 'Must be more than 0.',
      nSteps: 'Must be a whole number.'
    })
    expect(choiceProblems({ ...c, settings: { ...c.settings, snr: NaN } }, catalog.pc)).toEqual({ snr: 'Enter a number.' })
    expect(choiceProblems({ sampler: '', steps: null, settings: {} }, undefined)).toEqual({ sampler: 'Choose a sampler.' })
    expect(commonProblems({ seed: -1, count: 0, eps: 1 }, 300)).toEqual({
      seed: 'A whole number ≥ 0.', count: 'A whole number from 1 to 4096.', eps: 'From 1e-8 to 0.5 (e.g. 1e-3), or empty.', frames: 'A whole number from 0 to 200.'
    })
  })

  it("bounds every field by the contract's LIMITS, the same numbers the lab checks", () => {
    const c = initialChoice('pc', catalog.pc)
    const steps = (n: number) => choiceProblems({ ...c, steps: n }, catalog.pc).steps
    expect(steps(LIMITS.samplerSteps.min)).toBeUndefined()
    expect(steps(LIMITS.samplerSteps.max)).toBeUndefined()
    expect(steps(LIMITS.samplerSteps.max + 1)).toBe('A whole number from 1 to 100,000.')
    const ok = { seed: LIMITS.seed.max, count: LIMITS.count.max, eps: LIMITS.eps.max }
    expect(commonProblems(ok, LIMITS.trajectoryFrames.max)).toEqual({})
    expect(commonProblems({ seed: LIMITS.seed.min, count: LIMITS.count.min, eps: LIMITS.eps.min }, LIMITS.trajectoryFrames.min)).toEqual({})
    expect(Object.keys(commonProblems({ seed: ok.seed + 1, count: ok.count + 1, eps: ok.eps * 1.01 }, LIMITS.trajectoryFrames.max + 1)).sort()).toEqual(['count', 'eps', 'frames', 'seed'])
    // The sampler's own settings carry their contract range (the inputs' min and max).
    const range = (sampler: string, key: string) => samplerFields(catalog[sampler]!).find((f) => f.key === key)?.range
    expect(range('pc', 'snr')).toBe(LIMITS.snr)
    expect(range('pc', 'nSteps')).toBe(LIMITS.correctorSteps)
    expect(range('ode', 'rtol')).toBe(LIMITS.odeTolerance)
    expect(range('ald', 'stepsPerLevel')).toBe(LIMITS.stepsPerLevel)
    expect(choiceProblems({ ...c, settings: { ...c.settings, snr: LIMITS.snr.max * 2, nSteps: LIMITS.correctorSteps.max + 1 } }, catalog.pc)).toEqual({ snr: 'At most 1.', nSteps: 'At most 100.' })
    const ode = initialChoice('ode', catalog.ode)
    expect(choiceProblems({ ...ode, settings: { ...ode.settings, rtol: LIMITS.odeTolerance.min / 10 } }, catalog.ode)).toEqual({ rtol: 'Must be at least 1e-8.' })
  })

  it('shows only the fields that take part in the run: no steps for rk45, no tolerances for euler, no snr without a corrector', () => {
    const keys = (sampler: string, settings: Record<string, unknown>) => applicableFields(sampler, { defaults: catalog[sampler]! }, settings).map((f) => f.key).filter((k) => k !== 'denoise')
    expect(keys('ode', { method: 'rk45' })).toEqual(['method', 'rtol', 'atol'])
    expect(keys('ode', { method: 'euler' })).toEqual(['method'])
    expect(keys('ode', { method: 'rk4' })).toEqual(['method'])
    expect(settingApplies('ode', 'steps', { method: 'rk45' })).toBe(false)
    expect(settingApplies('ode', 'steps', { method: 'euler' })).toBe(true)
    expect(settingApplies('euler_maruyama', 'steps', {})).toBe(true)
    expect(keys('pc', { corrector: 'none' })).toEqual(['predictor', 'corrector', 'probabilityFlow'])
    expect(keys('pc', { predictor: 'none' })).toEqual(['predictor', 'corrector', 'snr', 'nSteps'])
    // A hidden field's value does not block the run.
    const euler = { sampler: 'ode', steps: 50, settings: { method: 'euler', rtol: NaN, atol: -1 } }
    expect(choiceProblems(euler, catalog.ode)).toEqual({})
    expect(choiceProblems({ ...euler, steps: 0, settings: { ...euler.settings, method: 'rk45' } }, catalog.ode)).toEqual({ rtol: 'Enter a number.', atol: 'Must be at least 1e-8.' })
  })

  it('names exports after their settings: snr always, other settings when not the default', () => {
    const settings = { predictor: 'reverse_diffusion', corrector: 'langevin', snr: 0.16, nSteps: 1, batchSize: 64, seed: 0, n: 500 }
    expect(sampleFileName({ dataset: 'fashion-mnist', sampler: 'pc', settings, defaults: catalog.pc, seed: 0, ext: 'png' })).toBe('fashion-mnist_pc_snr0.16_seed0.png')
    expect(sampleFileName({ dataset: 'mnist', sampler: 'pc', steps: 500, settings: { ...settings, nSteps: 2 }, defaults: catalog.pc, seed: 3, ext: 'gif' })).toBe('mnist_pc_n500_snr0.16_nSteps2_seed3.gif')
    expect(sampleFileName({ dataset: 'toy-gmm', sampler: 'euler_maruyama', steps: 60, settings: {}, seed: 0, ext: 'png' })).toBe('toy-gmm_em_n60_seed0.png')
    // Any sampler's settings, by the catalogue defaults: heun's churn, a switch turned off.
    expect(sampleFileName({ dataset: 'mnist', sampler: 'heun', steps: 18, settings: { rho: 7, sChurn: 0.5, denoise: false, every: 2 }, defaults: heun.defaults, seed: 1, ext: 'png' })).toBe('mnist_heun_n18_sChurn0.5_no-denoise_seed1.png')
  })

  it('lays out a comparison figure in at most four columns with integer scaling', () => {
    expect(figureLayout([{ width: 256, height: 256 }, { width: 256, height: 256 }])).toMatchObject({ cols: 2, scale: 1, width: 24 * 2 + 2 * 256 + 20 })
    const small = figureLayout(Array.from({ length: 6 }, () => ({ width: 62, height: 62 })))
    expect(small).toMatchObject({ cols: 4, scale: 5, cellW: 310 })
    expect(integerScale(242, 600)).toBe(2)
    expect(integerScale(1000, 600)).toBe(1)
  })
})
