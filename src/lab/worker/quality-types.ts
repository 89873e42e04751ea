// What a quality measure answers (quality-measure.ts picks one for the run's data set).
import type { ClassStats } from '../../shared/contract'

export interface Quality {
  /** null: no sample was finite (the sampler diverged). */
  value: number | null
  kid: { mean: number; std: number } | null
  precision: number | null
  recall: number | null
  /** Image runs: the classifier's predictions on the samples. */
  classes: ClassStats | null
  /** When asked for: FID through the Inception weights (null: not asked, or not finite). */
  fid?: number | null
}

export interface QualityMeasure {
  metric: 'sw2' | 'fd'
  label: string
  floor: number | null
  ceiling: number | null
  /** Image runs: the classifier's predictions on N training images (what a perfect sampler reads). */
  realClasses: ClassStats | null
  /** When FID was asked for: training images' FID to the test images at this N. */
  fidFloor?: number | null
  measure(samples: Float32Array): Promise<Quality>
  /** Frees what the measure holds (the classifier's weights). */
  dispose?(): void
}
