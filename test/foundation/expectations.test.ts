// What quality to expect when: one table (src/shared/expectations.ts) beside the presets, and
// the line the training view's preview card shows from it.
import { describe, expect, it } from 'vitest'
import { EXPECTATIONS, epochsOf, expectationLine } from '../../src/shared/expectations'
import { PRESETS } from '../../src/lab/catalog'
import { DATASETS } from '../../src/lab/datasets/registry'

const preset = (name: string) => PRESETS.find((p) => p.name === name)!.config

describe('what quality to expect when', () => {
  it('says when digits become recognisable in the MNIST tutorial, and how long the tutorial trains', () => {
    expect(expectationLine(preset('mnist-tutorial'), 2500)).toBe(
      'Digits become recognisable after ~2 epochs (≈3,750 steps at batch 32); strokes are clean by ~10 epochs; ' +
        'the tutorial trains 50 epochs. This run: 50 epochs, now at epoch 1.3.'
    )
    // At another batch size the same epochs are other step counts.
    expect(expectationLine({ ...preset('mnist-tutorial'), batchSize: 64, steps: 9375 })).toMatch(/^Digits become recognisable after ~2 epochs \(≈1,875 steps at batch 64\);.* This run: 10 epochs\.$/)
  })

  it('speaks in steps for CIFAR-10 and the toy sets', () => {
    expect(expectationLine(preset('cifar10-color'))).toBe(
      'Colour blobs and rough layouts appear after ~10,000 steps; object-like shapes need ~100,000 steps or more; score_sde trains 1.3M steps. This run: 200,000 steps.'
    )
    expect(expectationLine({ ...preset('toy-quick'), steps: 600 }, 300)).toBe(
      'The points reach the circle of modes after ~500 steps; the 8 modes separate by ~5,000 steps; the toy-quick preset trains 2,000 steps. This run: 600 steps, now at step 300.'
    )
    expect(expectationLine({ ...preset('toy-quick'), dataset: 'no-such-set' })).toBeNull()
  })

  it('has an entry for every data set, each naming the preset that trains it', () => {
    for (const d of DATASETS) expect(EXPECTATIONS[d.name], d.name).toBeDefined()
    for (const p of PRESETS) expect(EXPECTATIONS[p.config.dataset]?.preset, p.name).toBe(p.name)
    for (const [name, e] of Object.entries(EXPECTATIONS)) {
      expect(PRESETS.some((p) => p.name === e.preset), name).toBe(true)
      const info = DATASETS.find((d) => d.name === name)!
      expect(e.trainSize, name).toBe(info.kind === 'image' ? info.trainSize : null)
    }
  })

  it('states the tutorial lengths the presets actually train', () => {
    // The tutorial's 50 epochs at batch 32, and the Fashion-MNIST preset's 100 at batch 64.
    const mnist = preset('mnist-tutorial')
    expect(epochsOf(EXPECTATIONS.mnist!, mnist.steps, mnist.batchSize)).toBe(EXPECTATIONS.mnist!.reference.at)
    const fashion = preset('fashion-mnist-tutorial')
    expect(epochsOf(EXPECTATIONS['fashion-mnist']!, fashion.steps, fashion.batchSize)).toBe(EXPECTATIONS['fashion-mnist']!.reference.at)
    expect(EXPECTATIONS['toy-gmm']!.reference).toMatchObject({ at: preset('toy-quick').steps, unit: 'steps' })
  })
})
