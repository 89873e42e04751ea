// The Runs panel's hyper-parameter table: one row per setting, differing rows flagged.
import { describe, expect, it } from 'vitest'
import { compareRows, showValue } from '../../src/renderer/src/lib/run-compare'
import type { RunSummary } from '@shared/contract'

const config = (over: Partial<RunSummary['config']> = {}): RunSummary['config'] => ({
  dataset: 'toy-gmm', model: 'mlp', sde: { name: 've', params: {} }, steps: 600, batchSize: 64, lr: 0.001, warmup: 0, gradClip: 1, ema: 0.999,
  weighting: 'likelihood', reduction: 'mean', seed: 0, checkpointEvery: 200, keepLast: 3, keepBest: true, previewEvery: 100, centered: true, randomFlip: false, ...over
})

describe('compareRows', () => {
  it('flags exactly the settings that differ', () => {
    const rows = compareRows([{ config: config() }, { config: config({ seed: 1, steps: 200 }) }, { config: config({ seed: 2 }) }])
    expect(rows.filter((r) => r.differs).map((r) => r.key)).toEqual(['steps', 'seed'])
    expect(rows.find((r) => r.key === 'seed')!.values).toEqual(['0', '1', '2'])
    expect(rows.find((r) => r.key === 'model')).toMatchObject({ values: ['mlp', 'mlp', 'mlp'], differs: false })
  })

  it('lists every SDE parameter any run sets, a dash where one does not', () => {
    const rows = compareRows([{ config: config({ sde: { name: 've', params: { sigmaMax: 10 } } }) }, { config: config({ sde: { name: 'vp', params: { betaMax: 20 } } }) }])
    expect(rows.find((r) => r.key === 'sde')).toMatchObject({ values: ['ve', 'vp'], differs: true })
    expect(rows.find((r) => r.key === 'sde.sigmaMax')).toMatchObject({ values: ['10', '—'], differs: true })
    expect(rows.find((r) => r.key === 'sde.betaMax')).toMatchObject({ values: ['—', '20'], differs: true })
  })

  it('shows a time budget only when a run has one (0 and unset both mean none)', () => {
    expect(compareRows([{ config: config() }, { config: config({ maxMinutes: 0 }) }]).some((r) => r.key === 'maxMinutes')).toBe(false)
    expect(compareRows([{ config: config() }, { config: config({ maxMinutes: 5 }) }]).find((r) => r.key === 'maxMinutes')).toMatchObject({ values: ['—', '5'], differs: true })
  })

  it('writes values the way the app does', () => {
    expect([showValue(true), showValue(false), showValue(undefined), showValue('rk45')]).toEqual(['yes', 'no', '—', 'rk45'])
  })
})
