// The sampler settings form: fields from the catalogue defaults, problems in words, and the
// export file names that carry the settings; the comparison figure's layout.
import { describe, expect, it } from 'vitest'
import { LIMITS } from '@shared/contract'
import { applicableFields, choiceProblems, commonProblems, initialChoice, sampleFileName, samplerFields, settingApplies } from '../../src/renderer/src/lib/sampler-fields'
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

describe('sampler fields', () => {
  it('offers each sampler its own settings, never the keys the request carries itself', () => {
    expect(samplerFields(catalog.pc!).map((f) => f.key)).toEqual(['predictor', 'corrector', 'snr', 'nSteps', 'probabilityFlow'])
    expect(samplerFields(catalog.ode!, choices.ode).map((f) => [f.key, f.kind])).toEqual([['method', 'choice'], ['rtol', 'number'], ['atol', 'number']])
    // The pick lists are the catalogue's; without them a string setting is a text field.
    expect(samplerFields(catalog.pc!, choices.pc).find((f) => f.key === 'predictor')).toMatchObject({ kind: 'choice', choices: choices.pc!.predictor })
    expect(samplerFields(catalog.ode!).find((f) => f.key === 'method')?.kind).toBe('text')
    expect(samplerFields(catalog.euler_maruyama!)).toEqual([])
    expect(samplerFields(catalog.ald!).map((f) => f.key)).toEqual(['stepsPerLevel', 'stepLr'])
    for (const s of Object.values(catalog)) for (const f of samplerFields(s)) expect(f.help).not.toBe(f.key)
  })

  it('starts from the catalogue defaults (ald from its L, the others from the SDE)', () => {
    expect(initialChoice('pc', catalog.pc)).toEqual({ sampler: 'pc', steps: null, settings: { predictor: 'reverse_diffusion', corrector: 'langevin', snr: 0.16, nSteps: 1, probabilityFlow: false } })
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
    const keys = (sampler: string, settings: Record<string, unknown>) => applicableFields(sampler, catalog[sampler]!, settings).map((f) => f.key)
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
    expect(choiceProblems({ ...euler, steps: 0, settings: { ...euler.settings, method: 'rk45' } }, catalog.ode)).toEqual({ rtol: 'Enter a number.', atol: 'Must be more than 0.' })
  })

  it('names exports after their settings: snr always, other settings when not the default', () => {
    const settings = { predictor: 'reverse_diffusion', corrector: 'langevin', snr: 0.16, nSteps: 1, batchSize: 64, seed: 0, n: 500 }
    expect(sampleFileName({ dataset: 'fashion-mnist', sampler: 'pc', settings, defaults: catalog.pc, seed: 0, ext: 'png' })).toBe('fashion-mnist_pc_snr0.16_seed0.png')
    expect(sampleFileName({ dataset: 'mnist', sampler: 'pc', steps: 500, settings: { ...settings, nSteps: 2 }, defaults: catalog.pc, seed: 3, ext: 'gif' })).toBe('mnist_pc_n500_snr0.16_nSteps2_seed3.gif')
    expect(sampleFileName({ dataset: 'toy-gmm', sampler: 'euler_maruyama', steps: 60, settings: {}, seed: 0, ext: 'png' })).toBe('toy-gmm_em_n60_seed0.png')
  })

  it('lays out a comparison figure in at most four columns with integer scaling', () => {
    expect(figureLayout([{ width: 256, height: 256 }, { width: 256, height: 256 }])).toMatchObject({ cols: 2, scale: 1, width: 24 * 2 + 2 * 256 + 20 })
    const small = figureLayout(Array.from({ length: 6 }, () => ({ width: 62, height: 62 })))
    expect(small).toMatchObject({ cols: 4, scale: 5, cellW: 310 })
    expect(integerScale(242, 600)).toBe(2)
    expect(integerScale(1000, 600)).toBe(1)
  })
})
