// Colorisation (score_sde's get_pc_colorizer): the grey level of every pixel is known, its
// colour is not. An orthonormal 3×3 matrix M maps RGB to a space whose channel 0 is
// (R+G+B)/√3 = √3·grey, so the problem becomes inpainting of channel 0 in that space.
//   decouple(x) = x·M  (per pixel, score_sde's einsum('bihw,ij->bjhw', x, M)),  couple(z) = z·Mᵀ.
// score_sde stores M rounded to float32; these are its exact values: columns (1,1,1)/√3,
// (−2,1,1)/√6, (0,1,−1)/√2. Data are NHWC with 3 channels.
//
// One deviation: score_sde's initial x applies the channel-0 mask to the RGB prior before
// decoupling (so it zeroes R, not the grey channel); here the prior is masked in the decoupled
// space, the evident intent. An isotropic prior is the same distribution in either space.
import { tf } from '../../tf'
import type { ScoreFn, Sde } from '../../sde/types'
import type { PcSettings } from '../pc'
import { resolveCommon } from '../setup'
import type { SampleResult, SamplerOptions } from '../types'
import { sampleWithReplacement, toBatchTensor } from './replacement'

const R3 = Math.sqrt(3)
const R6 = Math.sqrt(6)
const R2 = Math.sqrt(2)

/** score_sde's colorisation matrix M (rows: R, G, B; column 0 is the grey channel). Orthonormal: M⁻¹ = Mᵀ. */
export const COLOR_MATRIX: readonly (readonly [number, number, number])[] = [
  [1 / R3, -2 / R6, 0],
  [1 / R3, 1 / R6, 1 / R2],
  [1 / R3, 1 / R6, -1 / R2]
]

function mixChannels(x: tf.Tensor, matrix: readonly (readonly number[])[]): tf.Tensor {
  if (x.shape[x.rank - 1] !== 3) throw new Error(`colorisation needs 3 channels last (NHWC), got shape [${x.shape}]`)
  return tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(x, [-1, 3]), tf.tensor2d(matrix.map((r) => [...r]), [3, 3])), x.shape))
}

/** RGB → decoupled space (channel 0 = √3·grey). */
export function decouple(x: tf.Tensor): tf.Tensor {
  return mixChannels(x, COLOR_MATRIX)
}

/** Decoupled space → RGB, the inverse of decouple (Mᵀ). */
export function couple(z: tf.Tensor): tf.Tensor {
  return mixChannels(z, COLOR_MATRIX[0].map((_, j) => COLOR_MATRIX.map((row) => row[j])))
}

/** Grey level mean(R, G, B) per pixel, [..., 1]. */
export function toGrey(rgb: tf.Tensor): tf.Tensor {
  return tf.mean(rgb, -1, true)
}

export interface ColorizeInputs {
  /**
   * The grey image: grey level g = mean(R, G, B) per pixel, [B, H, W, 1] or [H, W, 1] (one image for
   * the whole batch); a Float32Array is read as these grey levels. A tensor with 3 channels
   * (score_sde's input, mean(RGB) repeated) is reduced to its mean.
   */
  grey: tf.Tensor | Float32Array
}

export type ColorizeOptions = SamplerOptions & Partial<PcSettings> & ColorizeInputs

export async function sampleColorize(scoreFn: ScoreFn, sde: Sde, opts: ColorizeOptions): Promise<SampleResult> {
  const { fullShape } = resolveCommon(sde, opts)
  if (fullShape.length !== 4 || fullShape[3] !== 3) throw new Error(`colorisation needs shape [H, W, 3], got [${opts.shape}]`)
  const greyShape = [...fullShape.slice(0, 3), 1]
  const known = tf.tidy(() => {
    // A 3-channel tensor (score_sde's grey repeated over RGB) is reduced to its mean first.
    const g = opts.grey instanceof Float32Array || opts.grey.shape[opts.grey.rank - 1] !== 3 ? opts.grey : toGrey(opts.grey)
    const grey = toBatchTensor(g, greyShape, 'grey')
    return tf.concat([tf.mul(grey, R3), tf.zeros([...greyShape.slice(0, 3), 2])], 3)
  })
  const mask = tf.tidy(() => tf.concat([tf.ones(greyShape), tf.zeros([...greyShape.slice(0, 3), 2])], 3))
  try {
    return await sampleWithReplacement(scoreFn, sde, opts, { known, mask, toWork: decouple, fromWork: couple })
  } finally {
    known.dispose()
    mask.dispose()
  }
}
