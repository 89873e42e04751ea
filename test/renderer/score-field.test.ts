import { describe, expect, it } from 'vitest'
import { referenceMagnitude, sliderToT, tToSlider, SLIDER_STEPS, T_MAX, T_MIN } from '../../src/renderer/src/lib/score-field'

describe('score field helpers', () => {
  it('maps the slider to log-spaced t and back', () => {
    expect(sliderToT(0)).toBeCloseTo(T_MIN, 12)
    expect(sliderToT(SLIDER_STEPS)).toBeCloseTo(T_MAX, 12)
    expect(sliderToT(SLIDER_STEPS / 2)).toBeCloseTo(0.1, 12)
    for (const v of [0, 13, 50, 77, 100]) expect(tToSlider(sliderToT(v))).toBe(v)
  })

  it('takes the 95th-percentile magnitude, so a few huge scores do not shrink the rest', () => {
    const v: number[] = []
    for (let i = 0; i < 100; i++) v.push(i < 97 ? 1 : 1000, 0)
    expect(referenceMagnitude(v)).toBe(1)
    expect(referenceMagnitude([0, 0])).toBe(1) // never 0
  })
})
