// Sampler names have one owner each: the short aliases (the CLI's --sampler em, export file
// names) in src/shared/samplers.ts, and the choices of pc's predictor and corrector and ode's
// method in the engine's registries, which engine.catalog serves to the forms.
import { describe, expect, it } from 'vitest'
import { SAMPLERS } from '../../src/engine/samplers'
import { PREDICTORS } from '../../src/engine/samplers/predictors'
import { CORRECTORS } from '../../src/engine/samplers/correctors'
import { catalog } from '../../src/lab/catalog'
import { DEFAULT_COMPARE_SAMPLERS, SAMPLER_ALIASES, samplerKey, samplerShortName } from '../../src/shared/samplers'

describe('sampler names', () => {
  it('aliases name registered samplers or predictors, and short names are their inverse', () => {
    for (const [short, key] of Object.entries(SAMPLER_ALIASES)) {
      expect(key in SAMPLERS || key in PREDICTORS).toBe(true)
      expect(samplerKey(short)).toBe(key)
      expect(samplerShortName(key)).toBe(short)
    }
    expect(samplerKey('pc')).toBe('pc')
    expect(samplerKey('constructor')).toBe('constructor')
    expect(samplerShortName('ode')).toBe('ode')
  })

  it('a new comparison starts from registered samplers', () => {
    for (const name of DEFAULT_COMPARE_SAMPLERS) expect(name in SAMPLERS).toBe(true)
  })

  it("engine.catalog serves each sampler's choices from the engine's registries", () => {
    const byName = new Map(catalog().samplers.map((s) => [s.name, s]))
    expect(byName.get('pc')?.choices).toEqual({ predictor: Object.keys(PREDICTORS), corrector: Object.keys(CORRECTORS) })
    expect(byName.get('ode')?.choices).toEqual({ method: ['rk45', 'rk4', 'euler'] })
    expect(byName.get('euler_maruyama')?.choices).toBeUndefined()
    // Every default of a string setting is one of its choices (the form shows a pick list).
    for (const s of byName.values()) {
      for (const [key, names] of Object.entries(s.choices ?? {})) expect(names).toContain(s.defaults[key])
    }
  })
})
