// Registry of 2-D toy data sets by name.
import { lookup } from '../registry'
import { GmmToy } from './gmm'
import { MoonsToy } from './moons'
import { RingsToy } from './rings'
import type { DensityToyDataset, ToyDataset } from './types'

export interface ToyEntry {
  description: string
  create(options: Record<string, unknown>): ToyDataset
}

export const TOYS: Record<string, ToyEntry> = {
  'toy-gmm': {
    description: 'Gaussian mixture (default: 8 Gaussians on a circle of radius 2) with exact density and score at every t',
    create: (o) => new GmmToy(o)
  },
  'toy-rings': { description: 'Concentric rings (default radii 1 and 2, noise 0.05) with exact density', create: (o) => new RingsToy(o) },
  'toy-moons': { description: 'Two interleaved half circles (make_moons), centred; density by quadrature along the curves', create: (o) => new MoonsToy(o) }
}

export function createToy(name: string, options: Record<string, unknown> = {}): ToyDataset {
  return lookup('toy data set', TOYS, name).create(options)
}

export function listToys(): { name: string; description: string }[] {
  return Object.entries(TOYS).map(([name, e]) => ({ name, description: e.description }))
}

/** Whether the set's data density is known (closed form or quadrature) for its options. */
export function hasDensity(toy: ToyDataset): toy is DensityToyDataset {
  const d = toy as Partial<DensityToyDataset>
  return typeof d.logDensity === 'function' && d.hasDensity === true
}

export { GmmToy } from './gmm'
export { MoonsToy } from './moons'
export { RingsToy } from './rings'
export type { ToyDataset, DensityToyDataset, AnalyticToyDataset } from './types'
