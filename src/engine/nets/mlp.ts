// `mlp`: a small time-conditional MLP for 2-D toy data (score-field view, exact tests).
//   temb = swish(Linear(GaussianFourier(t)))                    (frozen frequencies, a buffer)
//   h    = swish(fc0(x·c_in) + temb0(temb)); h = swish(fc_i(h) + temb_i(temb)), i = 1..L−1
//   s    = out(h) / std(t)                                       (predicts −z, as the tutorial)
// With classes K (classifier-free guidance): temb += label_embed[y], a learned row per class plus
// one for the null label ∅ (labels.ts).
// c_in = 1/√(m(t)² + σ(t)²) keeps the input O(1) for unit-scale data under VE SDEs, whose x(t)
// reaches σ_max (on VP it is ≈ 1); it can be switched off with normalizeInput: false.
// Weights are in tfjs layout [in, out] (PyTorch Linear layout on export: 'linear').
// swish is layers.ts' swishTwice (same values and gradients): its gradient can be differentiated
// again, which sliced score matching needs (loss/ssm.ts; nets/second-order.ts lists the models).
import { z } from 'zod'
import { tf } from '../tf'
import type { Sde } from '../sde/types'
import { perSample } from '../sde/base'
import type { ModelOptions, ScoreModel } from './types'
import { StoredModel } from './stored-model'
import { dense, gaussianFourierProjection, swishTwice as swish, torchDefaultInit, uniquePrefix, type ParamSpec } from './layers'
import { ClassesOptionSchema, labelEmbedSpecs, withClasses } from './labels'

export const MlpOptionsSchema = z
  .object({
    /** Optional copy of the data shape (so a stored config can be passed back as options). */
    shape: z.array(z.number().int().positive()).length(1).optional(),
    hidden: z.number().int().positive().default(128),
    layers: z.number().int().min(1).default(3),
    embedDim: z.number().int().positive().multipleOf(2).default(32),
    /** Std of the frozen Fourier frequencies; t ∈ [0, 1] needs far fewer cycles than images' scale 30. */
    fourierScale: z.number().positive().default(4),
    normalizeInput: z.boolean().default(true),
    /** Class-conditional with this many classes (0: unconditional). */
    classes: ClassesOptionSchema
  })
  .strict()

export type MlpConfig = Required<Omit<z.output<typeof MlpOptionsSchema>, 'shape'>> & { shape: [number] }

export function mlpSpecs(cfg: MlpConfig): ParamSpec[] {
  const { hidden: H, layers: L, embedDim: E } = cfg
  const D = cfg.shape[0]
  const specs: ParamSpec[] = [{ name: 'embed.W', shape: [E / 2], layout: 'same', init: { kind: 'normal', std: cfg.fourierScale }, trainable: false }]
  const linear = (name: string, fin: number, fout: number) => {
    specs.push({ name: `${name}.weight`, shape: [fin, fout], layout: 'linear', init: torchDefaultInit(fin), trainable: true })
    specs.push({ name: `${name}.bias`, shape: [fout], layout: 'same', init: torchDefaultInit(fin), trainable: true })
  }
  linear('embed.dense', E, H)
  for (let i = 0; i < L; i++) {
    linear(`fc${i}`, i === 0 ? D : H, H)
    linear(`temb${i}`, H, H)
  }
  linear('out', H, D)
  // Last, so every other weight draws the same initial values as without classes.
  specs.push(...labelEmbedSpecs(cfg.classes, H))
  return specs
}

export class Mlp extends StoredModel implements ScoreModel {
  readonly name = 'mlp'

  constructor(
    readonly cfg: MlpConfig,
    private readonly sde: Sde,
    seed: number
  ) {
    super(mlpSpecs(cfg), seed, uniquePrefix('mlp'), withClasses(cfg) as unknown as Record<string, unknown>, cfg.classes)
  }

  score(x: tf.Tensor, t: tf.Tensor1D, labels?: tf.Tensor1D): tf.Tensor {
    const D = this.cfg.shape[0]
    if (x.rank !== 2 || x.shape[1] !== D) throw new Error(`mlp expects x of shape [B, ${D}], got [${x.shape.join(', ')}]`)
    this.checkLabels(labels, x.shape[0])
    return tf.tidy(() => {
      const P = (n: string) => this.store.get(n)
      const time = swish(dense(gaussianFourierProjection(t, P('embed.W')), P('embed.dense.weight'), P('embed.dense.bias')))
      const temb = this.addLabelEmbedding(time, labels)
      const { meanCoeff, std } = this.sde.marginalCoeffs(t)
      let h: tf.Tensor = x
      if (this.cfg.normalizeInput) h = tf.mul(x, perSample(tf.rsqrt(tf.add(tf.square(meanCoeff), tf.square(std))) as tf.Tensor1D, x))
      for (let i = 0; i < this.cfg.layers; i++) {
        h = swish(tf.add(dense(h, P(`fc${i}.weight`), P(`fc${i}.bias`)), dense(temb, P(`temb${i}.weight`), P(`temb${i}.bias`))))
      }
      return tf.div(dense(h, P('out.weight'), P('out.bias')), perSample(std, x))
    })
  }

}

export function createMlp(opts: ModelOptions): Mlp {
  if (opts.shape.length !== 1) throw new Error(`mlp is for points [D]; got data shape [${opts.shape.join(', ')}]`)
  const parsed = MlpOptionsSchema.parse(opts.options ?? {})
  if (parsed.shape && parsed.shape[0] !== opts.shape[0]) throw new Error(`mlp options.shape [${parsed.shape}] does not match the data shape [${opts.shape}]`)
  const { shape: _shape, ...rest } = parsed
  return new Mlp({ ...rest, shape: [opts.shape[0]] }, opts.sde, opts.seed)
}
