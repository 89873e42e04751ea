// Registry of score networks by name: adding a network is one file plus one line here.
import type { Sde } from '../sde/types'
import type { ScoreModel } from './types'
import { createScoreNet } from './scorenet'
import { createScoreNetColor } from './scorenet-color'
import { createMixer } from './mixer'
import { createMlp } from './mlp'

export interface ModelOptions {
  /** Data shape without the batch: [H, W, C] for images, [D] for points. */
  shape: number[]
  /** The SDE whose marginal std the network divides by (tutorial convention). */
  sde: Sde
  /** Seed for the initial weights. */
  seed: number
  /** Architecture settings specific to one network (validated by that network). */
  options?: Record<string, unknown>
}

export type ModelFactory = (opts: ModelOptions) => ScoreModel

export const MODELS: Record<string, ModelFactory> = {
  scorenet: (opts) => createScoreNet(opts),
  scorenet_color: createScoreNetColor,
  mixer: createMixer,
  mlp: (opts) => createMlp(opts),
}

export function createModel(name: string, opts: ModelOptions): ScoreModel {
  const factory = MODELS[name]
  if (!factory) throw new Error(`Unknown model "${name}". Choose one of: ${Object.keys(MODELS).join(', ')}.`)
  return factory(opts)
}
