// A toy sample's quality numbers (SampleRecord.toyMetrics) as short lines for the Sample card and
// the Compare grid, each beside the same number for fresh true samples, so it can be read:
// "log p −2.15 nats (true data −2.12)". Shown beneath the settings caption, never inside it.
import type { SampleQuality, ToySampleMetrics } from '@shared/contract'
import { formatInt, formatNumber } from './format'

export interface MetricLine {
  key: 'logp' | 'sw2' | 'modes' | 'dropped' | 'fd' | 'kid' | 'pr' | 'classes'
  text: string
  /** What the number is and how it was computed, for a tooltip. */
  help: string
}

function signed(v: number): string {
  return formatNumber(v, 3).replace(/^-/, '−')
}

export function toyMetricLines(m: ToySampleMetrics): MetricLine[] {
  const n = formatInt(m.count)
  const how = m.density === 'kde' ? `a Gaussian KDE of ${formatInt(m.kde?.points ?? 0)} fresh true samples (bandwidth ${formatNumber(m.kde?.bandwidth ?? NaN)}; smoothed, so compare only with the true-data number)` : 'the exact density of the data set'
  const lines: MetricLine[] = [
    {
      key: 'logp',
      text: `log p ${signed(m.logLikelihood)} nats${m.density === 'kde' ? ' (KDE)' : ''} · true data ${signed(m.logLikelihoodRef)}`,
      help: `Mean log-likelihood of the samples under ${how}, against ${m.target}; "true data": the same for ${n} fresh true samples. Higher is better; points between modes or off the data pull it down.`
    },
    {
      key: 'sw2',
      text: `sliced W₂ ${formatNumber(m.sw2)} · true data ${formatNumber(m.sw2Ref)}`,
      help: `Sliced Wasserstein-2 distance from the samples to ${n} fresh true samples (${m.directions} random directions, seed ${m.seed}); "true data": between two fresh true sets of ${n}, the floor at this count. Lower is better; it sees wrong mode weights, shifts and scale more than blur.`
    }
  ]
  if (m.nearModes !== null && m.nearModesRef !== null) {
    lines.push({
      key: 'modes',
      text: `within 2σ of a mode ${Math.round(m.nearModes * 100)}% · true data ${Math.round(m.nearModesRef * 100)}%`,
      help: 'Share of the samples within 2 standard deviations of some mixture component mean, and of fresh true samples (≈ 86% in 2-D).'
    })
  }
  if (m.nonFinite > 0) lines.push({ key: 'dropped', text: `${formatInt(m.nonFinite)} samples NaN/Inf, left out`, help: 'Samples that diverged; every number above leaves them out.' })
  return lines
}

/** An image sample's quality through the data set's classifier (SampleRecord.quality), beside real data and noise. */
export function qualityLines(q: SampleQuality): MetricLine[] {
  const lines: MetricLine[] = [
    {
      key: 'fd',
      text: `FD ${q.value === null ? 'diverged' : formatNumber(q.value)} · real data ${formatNumber(q.floor)} · noise ${formatNumber(q.ceiling)}`,
      help: `${q.label}. "real data": training images against the same test images at the same N (the floor); "noise": Gaussian pixels (the ceiling). Lower is better; comparable only at equal N and with the same classifier.`
    }
  ]
  if (q.kid) lines.push({ key: 'kid', text: `KID ${formatNumber(q.kid.mean)} ± ${formatNumber(q.kid.std)}`, help: 'Kernel distance of the same features (unbiased at small N; 0 for one distribution).' })
  if (q.precision !== null && q.recall !== null) {
    lines.push({ key: 'pr', text: `precision ${formatNumber(q.precision)} · recall ${formatNumber(q.recall)}`, help: 'Improved precision (samples inside the data manifold; blur lowers it) and recall (data inside the samples\' manifold; dropped classes lower it), k = 3.' })
  }
  if (q.classes) {
    const real = q.realClasses ? ` · real data ${formatNumber(q.realClasses.entropy)}, ${formatNumber(q.realClasses.meanConfidence)}` : ''
    lines.push({ key: 'classes', text: `classes H ${formatNumber(q.classes.entropy)} of ${formatNumber(q.classes.entropyMax)} · conf. ${formatNumber(q.classes.meanConfidence)}${real}`, help: `The classifier's predicted classes of the samples (${q.classes.histogram.join(' · ')}): their entropy in nats (ln classes is an even spread; lower means dropped or favoured classes) and the mean top-class probability (low: samples the classifier cannot place).` })
  }
  return lines
}
