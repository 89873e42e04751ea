// How well class samples of an image run hold to their class: the data set's feature classifier
// (the one quality numbers use, an independent judge) labels each sample, and the share labelled
// as asked is reported overall and per class. Absent when the set has no feature classifier yet.
import fs from 'node:fs'
import { decodeFeatureNet } from '../../engine/metrics/feature-net-io'
import { argmaxRows, predictProbs } from '../../engine/metrics/feature-net'
import type { Condition, SampleRecord } from '../../shared/contract'
import { classifierPath } from '../classifiers'

/** The class each sample was asked for (one row per class for 'classes'); null for other conditions. */
export function askedClasses(condition: Condition | undefined, count: number): Int32Array | null {
  if (condition?.kind === 'class') return new Int32Array(count).fill(condition.label)
  if (condition?.kind === 'classes') return Int32Array.from({ length: count }, (_, i) => Math.floor(i / condition.perClass))
  return null
}

export async function classAgreement(dataDir: string, dataset: string, samples: Float32Array, shape: number[], centered: boolean, asked: Int32Array): Promise<SampleRecord['classAgreement']> {
  const file = classifierPath(dataDir, dataset)
  if (shape.length !== 3 || !fs.existsSync(file)) return null
  const [h, w, c] = shape as [number, number, number]
  const net = decodeFeatureNet(new Uint8Array(fs.readFileSync(file)), file).net
  try {
    const predicted = argmaxRows(await predictProbs(net, { data: samples, shape: [asked.length, h, w, c], range: centered ? 'centered' : 'unit' }), net.config.classes)
    const classes = Math.max(net.config.classes, Math.max(...asked) + 1)
    const hits = new Array<number>(classes).fill(0)
    const totals = new Array<number>(classes).fill(0)
    asked.forEach((k, i) => {
      totals[k]!++
      if (predicted[i] === k) hits[k]!++
    })
    const all = hits.reduce((a, b) => a + b, 0)
    return { rate: all / asked.length, perClass: totals.map((t, k) => (t ? hits[k]! / t : null)), count: asked.length }
  } finally {
    net.dispose()
  }
}
