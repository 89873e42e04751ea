// What quality to expect when, per data set, for the preset that trains it (src/lab/catalog.ts):
// one table of rough guides, so the training view can say "digits become recognisable after
// ~2 epochs; the tutorial trains 50 epochs" next to the live preview. Imports nothing.

export type ExpectationUnit = 'epochs' | 'steps'

export interface Expectation {
  /** The preset whose recipe these guides describe. */
  preset: string
  /** Training images, for steps ↔ epochs (null for generated 2-D sets, which have no epochs). */
  trainSize: number | null
  /** What the previews show, and from when (in order); `{at}` in `text` becomes "~2 epochs (≈3,750 steps at batch 32)". */
  milestones: { at: number; unit: ExpectationUnit; text: string }[]
  /** How long the reference recipe trains, and whose recipe it is. */
  reference: { at: number; unit: ExpectationUnit; who: string }
}

/**
 * Keyed by data set. The numbers are rough guides at the preset's settings, not promises: the
 * toy ones are what the toy-quick preset's previews (50 Euler–Maruyama steps, batch 256)
 * showed when trained 12,000 steps; MNIST's are the tutorial's; the others are estimates.
 */
export const EXPECTATIONS: Record<string, Expectation> = {
  mnist: {
    preset: 'mnist-tutorial',
    trainSize: 60_000,
    milestones: [
      { at: 2, unit: 'epochs', text: 'Digits become recognisable after {at}' },
      { at: 10, unit: 'epochs', text: 'strokes are clean by {at}' }
    ],
    reference: { at: 50, unit: 'epochs', who: 'the tutorial' }
  },
  'fashion-mnist': {
    preset: 'fashion-mnist-tutorial',
    trainSize: 60_000,
    milestones: [
      { at: 3, unit: 'epochs', text: 'Garment outlines (shirts, trousers, shoes) appear after {at}' },
      { at: 20, unit: 'epochs', text: 'textures and details fill in by {at}' }
    ],
    reference: { at: 100, unit: 'epochs', who: 'the preset' }
  },
  cifar10: {
    preset: 'cifar10-color',
    trainSize: 50_000,
    milestones: [
      { at: 10_000, unit: 'steps', text: 'Colour blobs and rough layouts appear after {at}' },
      { at: 100_000, unit: 'steps', text: 'object-like shapes need {at} or more' }
    ],
    reference: { at: 1_300_000, unit: 'steps', who: 'score_sde' }
  },
  'toy-gmm': {
    preset: 'toy-quick',
    trainSize: null,
    milestones: [
      { at: 500, unit: 'steps', text: 'The points reach the circle of modes after {at}' },
      { at: 5000, unit: 'steps', text: 'the 8 modes separate by {at}' }
    ],
    reference: { at: 2000, unit: 'steps', who: 'the toy-quick preset' }
  },
  'toy-rings': {
    preset: 'toy-quick',
    trainSize: null,
    milestones: [
      { at: 1250, unit: 'steps', text: 'The outer ring shows after {at}' },
      { at: 12_000, unit: 'steps', text: 'the inner ring is still a blur at {at}' }
    ],
    reference: { at: 2000, unit: 'steps', who: 'the toy-quick preset' }
  },
  'toy-moons': {
    preset: 'toy-quick',
    trainSize: null,
    milestones: [
      { at: 1500, unit: 'steps', text: 'A blurred S shows after {at}' },
      { at: 3000, unit: 'steps', text: 'the two moons take shape by {at}' }
    ],
    reference: { at: 2000, unit: 'steps', who: 'the toy-quick preset' }
  }
}

function int(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

function amount(at: number, unit: ExpectationUnit): string {
  if (unit === 'steps' && at >= 1_000_000) return `${Number((at / 1_000_000).toFixed(1))}M steps`
  return `${int(at)} ${unit === 'epochs' && at === 1 ? 'epoch' : unit}`
}

/** Steps for `at` of `unit` at this batch size (null when a generated set has no epochs). */
export function stepsFor(e: Expectation, at: number, unit: ExpectationUnit, batchSize: number): number | null {
  if (unit === 'steps') return at
  return e.trainSize ? Math.round((at * e.trainSize) / batchSize) : null
}

/** Epochs of `steps` at this batch size (null for generated sets). */
export function epochsOf(e: Expectation, steps: number, batchSize: number): number | null {
  return e.trainSize ? (steps * batchSize) / e.trainSize : null
}

function formatEpochs(x: number): string {
  return x < 10 ? String(Number(x.toFixed(1))) : int(x)
}

/**
 * The line the training view shows: what to expect when (the first milestone with its step
 * count at this run's batch size), how long the reference recipe trains, and where this run
 * stands. Null for a data set without an entry.
 */
export function expectationLine(config: { dataset: string; batchSize: number; steps: number }, step?: number): string | null {
  const e = EXPECTATIONS[config.dataset]
  if (!e) return null
  if (e.milestones.length === 0) return null
  // The first milestone also in steps at this batch size: that is what the preview header counts.
  const parts = e.milestones.map((m, i) => {
    const steps = stepsFor(e, m.at, m.unit, config.batchSize)
    const inSteps = i === 0 && m.unit === 'epochs' && steps !== null ? ` (≈${int(steps)} steps at batch ${int(config.batchSize)})` : ''
    return m.text.replace('{at}', `~${amount(m.at, m.unit)}${inSteps}`)
  })
  let line = `${parts.join('; ')}; ${e.reference.who} trains ${amount(e.reference.at, e.reference.unit)}.`
  const runEpochs = epochsOf(e, config.steps, config.batchSize)
  const length = e.reference.unit === 'epochs' && runEpochs !== null ? `${formatEpochs(runEpochs)} epochs` : amount(config.steps, 'steps')
  line += ` This run: ${length}`
  if (step !== undefined && step > 0) {
    const now = epochsOf(e, step, config.batchSize)
    line += e.reference.unit === 'epochs' && now !== null ? `, now at epoch ${formatEpochs(now)}` : `, now at step ${int(step)}`
  }
  return `${line}.`
}
