// Registry of score networks by name: adding a network is one file plus one line here.
import { lookup } from '../registry'
import type { ModelOptions, ScoreModel } from './types'
import { createScoreNet } from './scorenet'
import { createScoreNetColor } from './scorenet-color'
import { createMixer } from './mixer'
import { createMlp } from './mlp'

export type ModelFactory = (opts: ModelOptions) => ScoreModel

export const MODELS: Record<string, ModelFactory> = {
  scorenet: (opts) => createScoreNet(opts),
  scorenet_color: createScoreNetColor,
  mixer: createMixer,
  mlp: (opts) => createMlp(opts),
}

export function createModel(name: string, opts: ModelOptions): ScoreModel {
  return lookup('model', MODELS, name)(opts)
}
