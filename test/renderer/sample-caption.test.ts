// Captions of samples and Compare entries (issue 15): one function names the settings that ran,
// for the grid captions, the cost chart's bars and the exported figure alike.
import { describe, expect, it } from 'vitest'
import { captionParts, formatSetting, ranSettings, sampleCaption, sampleLabels, wrapCaption } from '../../src/renderer/src/lib/sample-caption'
import { titleLines } from '../../src/renderer/src/lib/compare-figure'

// engine.catalog's sampler defaults, as the lab serves them.
const common = { batchSize: 64, seed: 0, denoise: true, every: 0 }
const catalog = {
  samplers: [
    { name: 'euler_maruyama', defaults: common },
    { name: 'pc', defaults: { ...common, predictor: 'reverse_diffusion', corrector: 'langevin', snr: 0.16, nSteps: 1, probabilityFlow: false } },
    { name: 'ald', defaults: { ...common, n: 10, stepsPerLevel: 100, stepLr: 2e-5 } },
    { name: 'ode', defaults: { ...common, method: 'rk45', rtol: 1e-5, atol: 1e-5 } }
  ]
}

/** A record as the lab writes it: the request's settings plus batch size and seed. */
const record = (sampler: string, settings: Record<string, unknown>) => ({ sampler, settings: { batchSize: 600, seed: 0, ...settings } })

describe('sample captions', () => {
  it('names the ode method with its steps (euler, rk4) or its tolerances (rk45), never the other', () => {
    const euler = record('ode', { method: 'euler', rtol: 1e-5, atol: 1e-5, n: 50 })
    const rk45 = record('ode', { method: 'rk45', rtol: 1e-3, atol: 1e-3, n: 50 })
    expect(sampleCaption(euler, catalog)).toBe('ode · euler · 50 steps')
    expect(sampleCaption(euler, catalog)).not.toMatch(/adaptive|rtol|atol/)
    expect(sampleCaption(rk45, catalog)).toBe('ode · rk45 · rtol 1e-3 · atol 1e-3')
    expect(sampleCaption(rk45, catalog)).not.toMatch(/steps/)
    expect(sampleCaption(record('ode', { method: 'rk4', n: 20 }), catalog)).toBe('ode · rk4 · 20 steps')
  })

  it('fills what a record left out from the catalogue, and the SDE’s N for missing steps', () => {
    // A record without method (an older lab or the CLI): the engine ran its default, rk45.
    expect(sampleCaption(record('ode', {}), catalog)).toBe('ode · rk45 · rtol 1e-5 · atol 1e-5')
    expect(sampleCaption(record('ode', { method: 'euler' }), catalog, { sdeN: 1000 })).toBe('ode · euler · 1,000 steps')
    expect(sampleCaption(record('euler_maruyama', {}), catalog, { sdeN: 500 })).toBe('euler_maruyama · 500 steps')
    expect(sampleCaption(record('euler_maruyama', {}), catalog)).toBe("euler_maruyama · SDE's N steps")
    expect(ranSettings(record('ode', { method: 'euler', n: 50 }), catalog)).toEqual({ method: 'euler', n: 50 })
  })

  it('names pc’s predictor and corrector with the snr, and ald’s levels and Langevin steps', () => {
    const pc = record('pc', { predictor: 'reverse_diffusion', corrector: 'langevin', snr: 0.1, nSteps: 1, probabilityFlow: false, n: 30 })
    expect(sampleCaption(pc, catalog)).toBe('pc · 30 steps · rd + langevin · snr 0.1')
    expect(sampleCaption({ ...pc, settings: { ...pc.settings, nSteps: 2, predictor: 'euler_maruyama', probabilityFlow: true } }, catalog))
      .toBe('pc · 30 steps · em + langevin · snr 0.1 · 2 corrector steps · probability flow')
    // Without a corrector the snr does not apply, so it is not named.
    expect(sampleCaption({ ...pc, settings: { ...pc.settings, corrector: 'none' } }, catalog)).toBe('pc · 30 steps · rd only')
    expect(sampleCaption(record('ald', { n: 10, stepsPerLevel: 100, stepLr: 2e-5 }), catalog)).toBe('ald · 10 levels · 100 steps/level · lr 2e-5')
    expect(captionParts(record('euler_maruyama', { n: 60, denoise: false }), catalog)).toEqual(['euler_maruyama', '60 steps', 'no denoise'])
  })

  it('captions a Compare entry (steps beside its settings) as its record will be', () => {
    const entry = { sampler: 'ode', steps: 50, settings: { method: 'euler', rtol: 1e-5, atol: 1e-5 } }
    expect(sampleCaption(entry, catalog)).toBe('ode · euler · 50 steps')
    expect(sampleCaption({ ...entry, settings: { ...entry.settings, method: 'rk45' } }, catalog)).toBe('ode · rk45 · rtol 1e-5 · atol 1e-5')
    expect(sampleCaption({ sampler: 'ode', steps: null, settings: { method: 'rk4', rtol: 1e-5, atol: 1e-5 } }, catalog, { sdeN: 1000 })).toBe('ode · rk4 · 1,000 steps')
  })

  it('labels every entry uniquely: "#2" only for entries whose settings are the same', () => {
    const labels = sampleLabels(
      [
        record('ode', { method: 'rk45', rtol: 1e-3, atol: 1e-3 }),
        record('ode', { method: 'euler', n: 50 }),
        record('ode', { method: 'euler', n: 50, rtol: 1e-3 }), // rtol does not apply to euler: the same run
        record('ode', { method: 'euler', n: 100 })
      ],
      catalog
    )
    expect(labels).toEqual(['ode · rk45 · rtol 1e-3 · atol 1e-3', 'ode · euler · 50 steps', 'ode · euler · 50 steps #2', 'ode · euler · 100 steps'])
    expect(new Set(labels).size).toBe(labels.length)
  })

  it('writes small settings in exponent form and breaks long labels at their joins', () => {
    expect([formatSetting(1e-3), formatSetting(1e-5), formatSetting(2.5e-4), formatSetting(0.16), formatSetting(1000)]).toEqual(['1e-3', '1e-5', '2.5e-4', '0.16', '1,000'])
    expect(wrapCaption('ode · rk45 · rtol 1e-3 · atol 1e-3')).toEqual(['ode · rk45 · rtol 1e-3', 'atol 1e-3'])
    expect(wrapCaption('euler_maruyama · 60 steps')).toEqual(['euler_maruyama', '60 steps'])
    const measure = (t: string) => t.length * 7
    expect(titleLines('ode · rk45 · rtol 1e-3 · atol 1e-3', 200, measure)).toEqual(['ode · rk45 · rtol 1e-3', 'atol 1e-3'])
    expect(titleLines('pc · 30 steps · rd + langevin · snr 0.1 · 2 corrector steps', 120, measure)).toEqual(['pc · 30 steps', 'rd + langevin · snr 0.1 · 2 corrector steps'])
  })
})
