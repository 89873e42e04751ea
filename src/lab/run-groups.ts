// Run groups: one recipe trained under several values of one setting (the λ(t) weighting, the
// SDE, σ_max, the learning rate, the model, the batch size or the seed), one run per value, queued
// one after another on this machine. A group is its runs' shared tag `group:<name>` plus each
// run's `<setting>=<value>` tag, so the Runs panel's tag filter finds it and nothing new is stored.
// This module turns a recipe and the values into the runs' settings; it loads no engine code.
import { GROUP_SETTINGS, NUMERIC_GROUP_SETTINGS as NUMERIC, TrainConfigSchema, type TrainConfig } from '../shared/contract'

export type GroupSetting = (typeof GROUP_SETTINGS)[number]

/** The tag every run of a group carries. */
export const GROUP_TAG_PREFIX = 'group:'

export function groupTag(group: string): string {
  return `${GROUP_TAG_PREFIX}${group}`
}

/** The recipe with `setting` set to `value` (a copy), or a reason it cannot be. */
function withSetting(config: TrainConfig, setting: GroupSetting, value: string | number): TrainConfig {
  const c = structuredClone(config)
  const n = typeof value === 'number' ? value : Number(value)
  if (NUMERIC.has(setting) && !(typeof value === 'number' || (value.trim() !== '' && Number.isFinite(n)))) throw new Error(`${setting} takes numbers, got "${value}"`)
  if (!NUMERIC.has(setting) && typeof value !== 'string') throw new Error(`${setting} takes names, got ${value}`)
  switch (setting) {
    case 'weighting':
      c.weighting = value as string
      break
    case 'model':
      c.model = value as string
      break
    case 'sde':
      // A different SDE starts from its own defaults (σ_max of one is no β of another).
      c.sde = { name: value as string, params: {} }
      break
    case 'sigmaMax':
      c.sde = { ...c.sde, params: { ...c.sde.params, sigmaMax: n } }
      break
    case 'lr':
      c.lr = n
      break
    case 'batchSize':
      c.batchSize = n
      break
    case 'seed':
      c.seed = n
      break
  }
  return c
}

export interface GroupMember {
  value: string | number
  config: TrainConfig
}

/**
 * One validated recipe per value, in the order given; every value is checked before any run
 * exists (all or nothing), each against the settings' ranges, with the value named in the error.
 */
export function groupMembers(config: TrainConfig, setting: GroupSetting, values: (string | number)[]): GroupMember[] {
  const seen = new Set(values.map(String))
  if (seen.size !== values.length) throw new Error(`the values of ${setting} repeat: each run of a group needs its own value`)
  return values.map((value) => {
    const c = withSetting(config, setting, value)
    const parsed = TrainConfigSchema.safeParse(c)
    if (!parsed.success) throw new Error(`${setting} = ${value}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    return { value: NUMERIC.has(setting) ? Number(value) : value, config: parsed.data }
  })
}

/** A member run's name: the group's, then what it varies. */
export function memberName(group: string, setting: GroupSetting, value: string | number): string {
  return `${group} · ${setting}=${value}`
}
