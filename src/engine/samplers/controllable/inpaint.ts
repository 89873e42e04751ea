// Inpainting (score_sde's get_pc_inpainter): PC sampling in which the entries the mask marks as
// known are held to the forward marginal of the reference y at every step (see replacement.ts).
import { tf } from '../../tf'
import type { ScoreFn, Sde } from '../../sde/types'
import type { PcSettings } from '../pc'
import { resolveCommon } from '../setup'
import type { SampleResult, SamplerOptions } from '../types'
import { checkBinaryMask, sampleWithReplacement, toBatchTensor } from './replacement'

export interface InpaintInputs {
  /** Reference y, [B, ...shape] or [...shape] (one reference for the whole batch). Only its known entries are read. */
  reference: tf.Tensor | Float32Array
  /** 1 on known entries, 0 on entries to generate; [B, ...shape] or [...shape]. */
  mask: tf.Tensor | Float32Array
}

export type InpaintOptions = SamplerOptions & Partial<PcSettings> & InpaintInputs

export async function sampleInpaint(scoreFn: ScoreFn, sde: Sde, opts: InpaintOptions): Promise<SampleResult> {
  const { fullShape } = resolveCommon(sde, opts)
  const known = toBatchTensor(opts.reference, fullShape, 'reference')
  let mask: tf.Tensor | null = null
  try {
    mask = toBatchTensor(opts.mask, fullShape, 'mask')
    await checkBinaryMask(mask)
    return await sampleWithReplacement(scoreFn, sde, opts, { known, mask })
  } finally {
    known.dispose()
    mask?.dispose()
  }
}
