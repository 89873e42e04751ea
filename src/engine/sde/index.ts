// Registry of SDEs by name: adding an SDE is one file plus one entry here.
import { lookup } from '../registry'
import type { Sde } from './types'
import { VE_DEFAULTS, VeSde } from './ve'
import { VE_TUTORIAL_DEFAULTS, VeTutorialSde } from './ve-tutorial'
import { VP_DEFAULTS, VpSde } from './vp'
import { SubVpSde } from './subvp'

export interface SdeEntry {
  /** What it is, in a line for pickers and --help. */
  description: string
  /** Every parameter with its default; createSde accepts exactly these keys. */
  defaults: Record<string, number>
  create(params: Record<string, number>): Sde
}

export const SDES: Record<string, SdeEntry> = {
  vesde: {
    description: 'VE SDE of score_sde (SMLD): σ(t) = σ_min(σ_max/σ_min)^t',
    defaults: { ...VE_DEFAULTS },
    create: (p) => new VeSde(p)
  },
  vesde_tutorial: {
    description: "VE SDE of Song's PyTorch tutorial: dx = σ^t dw, σ = 25",
    defaults: { ...VE_TUTORIAL_DEFAULTS },
    create: (p) => new VeTutorialSde(p)
  },
  vpsde: {
    description: 'VP SDE of score_sde (DDPM): β(t) linear from β_min to β_max',
    defaults: { ...VP_DEFAULTS },
    create: (p) => new VpSde(p)
  },
  subvpsde: {
    description: 'sub-VP SDE of score_sde: VP drift, smaller diffusion',
    defaults: { ...VP_DEFAULTS },
    create: (p) => new SubVpSde(p)
  }
}

/** Builds an SDE from `{ name, ...params }` (as stored by Sde.toConfig()); missing params take defaults. */
export function createSde(config: { name: string } & Record<string, unknown>): Sde {
  const entry = lookup('SDE', SDES, config.name)
  const params: Record<string, number> = {}
  for (const [key, value] of Object.entries(config)) {
    if (key === 'name') continue
    if (!(key in entry.defaults)) {
      throw new Error(`SDE "${config.name}" has no parameter "${key}" (it takes: ${Object.keys(entry.defaults).join(', ')}).`)
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`SDE "${config.name}": ${key} must be a finite number, got ${String(value)}`)
    params[key] = value
  }
  return entry.create(params)
}

export function listSdes(): { name: string; description: string; defaults: Record<string, number> }[] {
  return Object.entries(SDES).map(([name, e]) => ({ name, description: e.description, defaults: { ...e.defaults } }))
}

export { suggestSigmaMax } from './sigma-max'
export type { Sde, ScoreFn, ReverseSde } from './types'
