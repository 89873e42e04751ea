// The renderer's side of issue 15 item 4: the sampler forms start from the run SDE's defaults
// (pc's snr 0.01 on VP, 0.16 on VE) and follow a change of run without undoing typed values;
// a toy sample's metrics read as short lines, each beside the true-data number.
import { describe, expect, it } from 'vitest'
import { defaultsForSde, initialChoice, retargetChoice } from '../../src/renderer/src/lib/sampler-fields'
import { toyMetricLines } from '../../src/renderer/src/lib/toy-metrics'

const pc = {
  defaults: { batchSize: 64, seed: 0, denoise: true, every: 0, predictor: 'reverse_diffusion', corrector: 'langevin', snr: 0.16, nSteps: 1, probabilityFlow: false },
  // As the catalogue serves it (src/lab/catalog.ts SDE_SAMPLER_DEFAULTS).
  sdeDefaults: { vesde: { snr: 0.16 }, vesde_tutorial: { snr: 0.16 }, vpsde: { snr: 0.01 }, subvpsde: { snr: 0.01 } }
}

describe('SDE-dependent sampler defaults in the forms', () => {
  it('start from the run SDE’s value', () => {
    expect(initialChoice('pc', defaultsForSde(pc, 'vpsde')).settings.snr).toBe(0.01)
    expect(initialChoice('pc', defaultsForSde(pc, 'vesde')).settings.snr).toBe(0.16)
    expect(defaultsForSde(pc, undefined)).toBe(pc.defaults)
    expect(defaultsForSde({ defaults: { rtol: 1e-5 } }, 'vpsde')).toEqual({ rtol: 1e-5 })
    expect(defaultsForSde(undefined, 'vpsde')).toBeUndefined()
  })

  it("take the run's data range where a default depends on it (adaptive_sde's atol: one intensity level)", () => {
    const adaptive = { defaults: { rtol: 0.01, atol: 0.0078 }, rangeDefaults: { zeroOne: { atol: 0.0039 } } }
    expect(defaultsForSde(adaptive, 'vpsde', false)).toEqual({ rtol: 0.01, atol: 0.0039 })
    expect(defaultsForSde(adaptive, 'vpsde', true)).toBe(adaptive.defaults)
    expect(defaultsForSde(adaptive, 'vpsde')).toBe(adaptive.defaults)
    // Both kinds at once: the SDE's, then the range's.
    expect(defaultsForSde({ ...pc, rangeDefaults: { zeroOne: { nSteps: 2 } } }, 'vpsde', false)).toMatchObject({ snr: 0.01, nSteps: 2 })
  })

  it('follow a change of run, keeping values the user typed', () => {
    const onVe = initialChoice('pc', defaultsForSde(pc, 'vesde'))
    expect(retargetChoice(onVe, pc, 'vesde', 'vpsde').settings.snr).toBe(0.01)
    expect(retargetChoice(retargetChoice(onVe, pc, 'vesde', 'vpsde'), pc, 'vpsde', 'vesde_tutorial').settings.snr).toBe(0.16)
    const typed = { ...onVe, settings: { ...onVe.settings, snr: 0.3 } }
    expect(retargetChoice(typed, pc, 'vesde', 'vpsde')).toBe(typed)
    // A choice made before any run was picked holds the plain default: it follows too.
    expect(retargetChoice(initialChoice('pc', pc.defaults), pc, undefined, 'subvpsde').settings.snr).toBe(0.01)
    const ode = initialChoice('ode', { rtol: 1e-5, atol: 1e-5, method: 'rk45' })
    expect(retargetChoice(ode, { defaults: { rtol: 1e-5 } }, 'vesde', 'vpsde')).toBe(ode)
  })
})

describe('toy metric lines', () => {
  const m = {
    target: 'toy-gmm', count: 1024, nonFinite: 0, density: 'exact' as const, kde: null, logLikelihood: -2.1464, logLikelihoodRef: -2.1161,
    sw2: 0.0638, sw2Ref: 0.0776, directions: 128, seed: 0, nearModes: 0.8516, nearModesRef: 0.8613
  }

  it('put each number beside the true-data one', () => {
    expect(toyMetricLines(m).map((l) => l.text)).toEqual(['log p −2.15 nats · true data −2.12', 'sliced W₂ 0.0638 · true data 0.0776', 'within 2σ of a mode 85% · true data 86%'])
    expect(toyMetricLines(m)[0]!.help).toMatch(/exact density/)
  })

  it('say when log p comes from a KDE, and count samples left out', () => {
    const kde = toyMetricLines({ ...m, density: 'kde', kde: { points: 4096, bandwidth: 0.14 }, nearModes: null, nearModesRef: null, nonFinite: 3 })
    expect(kde.map((l) => l.key)).toEqual(['logp', 'sw2', 'dropped'])
    expect(kde[0]!.text).toMatch(/\(KDE\)/)
    expect(kde[0]!.help).toMatch(/KDE of 4,096 fresh true samples/)
    expect(kde[2]!.text).toBe('3 samples NaN/Inf, left out')
  })
})
