// What a quality measure answers (quality-measure.ts picks one for the run's data set).

export interface Quality {
  /** null: no sample was finite (the sampler diverged). */
  value: number | null
  kid: { mean: number; std: number } | null
  precision: number | null
  recall: number | null
}

export interface QualityMeasure {
  metric: 'sw2' | 'fd'
  label: string
  floor: number | null
  ceiling: number | null
  measure(samples: Float32Array): Quality
  /** Frees what the measure holds (the classifier's weights). */
  dispose?(): void
}
