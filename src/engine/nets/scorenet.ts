// `scorenet`: the time-conditional U-Net of Yang Song's score-SDE tutorial (science.md §1.1),
// in NHWC. Parameter names are the tutorial's state_dict keys (without DataParallel's `module.`),
// weights are stored in tfjs layouts; torch-import.ts converts to and from PyTorch's.
//
// Per block: conv (bias-free, padding 0) → + Dense(embed) per channel → GroupNorm → swish.
// Decoder: transposed convs with concatenated skips; only tconv1 has a bias. The output is
// divided by the SDE's marginal std, so the net predicts −z and returns a score.
//
// Kept for parity although it is dead: tgnorm2 = GroupNorm(32, 32) has one channel per group, so the
// per-channel dense7(embed) added before it is normalised away and dense7 gets a zero gradient.
//
// With classes K (classifier-free guidance, not in the tutorial): embed += label_embed[y], one
// learned row per class plus the null label ∅ (labels.ts); classes 0 is the tutorial's net.
//
// Sizes for 28×28: encoder 28→26→12→5→2, decoder 2→5→12→26→28 (tconv3/tconv2 use output_padding 1).
// For 32×32 the encoder gives 30→14→6→2, so tconv4 needs output_padding 1 too; we derive every
// output_padding from the input shape instead of hard-coding the 28×28 values.
import { z } from 'zod'
import { tf } from '../tf'
import type { Sde } from '../sde/types'
import type { ModelOptions, TorchCompatibleModel } from './types'
import {
  conv2d,
  conv2dTranspose,
  dense,
  gaussianFourierProjection,
  swish,
  torchDefaultInit,
  uniquePrefix,
  type ParamSpec
} from './layers'
import { groupNormSwish } from '../ops/group-norm'
import { StoredModel } from './stored-model'
import { ClassesOptionSchema, labelEmbedSpecs, withClasses } from './labels'

export const ScoreNetOptionsSchema = z
  .object({
    /** Optional copy of the data shape (so a stored config can be passed back as options). */
    shape: z.array(z.number().int().positive()).length(3).optional(),
    channels: z.array(z.number().int().positive()).length(4).default([32, 64, 128, 256]),
    embedDim: z.number().int().positive().multipleOf(2).default(256),
    fourierScale: z.number().positive().default(30),
    /** GroupNorm groups in state_dict order: gnorm1..4, tgnorm4, tgnorm3, tgnorm2. */
    groups: z.array(z.number().int().positive()).length(7).default([4, 32, 32, 32, 32, 32, 32]),
    /** Class-conditional with this many classes (0: unconditional, the tutorial). */
    classes: ClassesOptionSchema
  })
  .strict()

export interface ScoreNetConfig {
  shape: [number, number, number]
  channels: [number, number, number, number]
  embedDim: number
  fourierScale: number
  groups: [number, number, number, number, number, number, number]
  /** Number of classes K (0: unconditional). */
  classes: number
  /** Derived from the shape: output_padding of tconv4, tconv3, tconv2, each [h, w]. */
  outputPadding: { tconv4: [number, number]; tconv3: [number, number]; tconv2: [number, number] }
}

const GNORM_NAMES = ['gnorm1', 'gnorm2', 'gnorm3', 'gnorm4', 'tgnorm4', 'tgnorm3', 'tgnorm2'] as const

const convOut = (n: number, stride: number) => Math.floor((n - 3) / stride) + 1

/** Encoder sizes and the output_padding each transposed conv needs to land back on them. */
function deriveOutputPadding(h: number, w: number): ScoreNetConfig['outputPadding'] {
  const pad = (axis: string, n: number): [number, number, number] => {
    const s1 = n - 2
    const s2 = convOut(s1, 2)
    const s3 = convOut(s2, 2)
    const s4 = convOut(s3, 2)
    if (s4 < 1) throw new Error(`scorenet: ${axis} ${n} is too small (the encoder needs at least 17 pixels)`)
    const up = (from: number) => (from - 1) * 2 + 3
    return [s3 - up(s4), s2 - up(s3), s1 - up(s2)]
  }
  const [h4, h3, h2] = pad('height', h)
  const [w4, w3, w2] = pad('width', w)
  return { tconv4: [h4, w4], tconv3: [h3, w3], tconv2: [h2, w2] }
}

export function resolveScoreNetConfig(shape: number[], options: unknown = {}): ScoreNetConfig {
  if (shape.length !== 3) throw new Error(`scorenet needs an image shape [H, W, C], got [${shape.join(', ')}]`)
  const parsed = ScoreNetOptionsSchema.safeParse(options ?? {})
  if (!parsed.success) throw new Error(`scorenet options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`)
  const o = parsed.data
  if (o.shape && o.shape.join() !== shape.join()) throw new Error(`scorenet options.shape [${o.shape.join(', ')}] differs from the data shape [${shape.join(', ')}]`)
  const [h, w, c] = shape as [number, number, number]
  const channels = o.channels as ScoreNetConfig['channels']
  const groups = o.groups as ScoreNetConfig['groups']
  const normChannels = [channels[0], channels[1], channels[2], channels[3], channels[2], channels[1], channels[0]]
  GNORM_NAMES.forEach((name, i) => {
    if (normChannels[i]! % groups[i]! !== 0) throw new Error(`scorenet: ${name} has ${normChannels[i]} channels, not divisible by ${groups[i]} groups`)
  })
  const outputPadding = deriveOutputPadding(h, w)
  for (const [name, pads] of Object.entries(outputPadding)) {
    if (pads.some((p) => p < 0 || p > 1)) throw new Error(`scorenet: shape [${shape.join(', ')}] needs output_padding ${pads.join('/')} on ${name}, outside PyTorch's [0, 1]`)
  }
  return { shape: [h, w, c], channels, embedDim: o.embedDim, fourierScale: o.fourierScale, groups, classes: o.classes, outputPadding }
}

/** Parameter specs in the tutorial's state_dict order, with tfjs shapes. */
export function scoreNetSpecs(cfg: ScoreNetConfig): ParamSpec[] {
  const [c0, c1, c2, c3] = cfg.channels
  const cin = cfg.shape[2]
  const E = cfg.embedDim
  const specs: ParamSpec[] = []
  const linear = (name: string, inF: number, outF: number) => {
    specs.push({ name: `${name}.weight`, shape: [inF, outF], layout: 'linear', init: torchDefaultInit(inF), trainable: true })
    specs.push({ name: `${name}.bias`, shape: [outF], layout: 'same', init: torchDefaultInit(inF), trainable: true })
  }
  const conv = (name: string, i: number, o: number) =>
    specs.push({ name: `${name}.weight`, shape: [3, 3, i, o], layout: 'conv2d', init: torchDefaultInit(i * 9), trainable: true })
  // PyTorch computes a ConvTranspose2d's fan_in from weight.size(1), i.e. its *output* channels.
  const tconv = (name: string, i: number, o: number) =>
    specs.push({ name: `${name}.weight`, shape: [3, 3, o, i], layout: 'conv_transpose2d', init: torchDefaultInit(o * 9), trainable: true })
  const gnorm = (name: string, ch: number) => {
    specs.push({ name: `${name}.weight`, shape: [ch], layout: 'same', init: { kind: 'const', value: 1 }, trainable: true })
    specs.push({ name: `${name}.bias`, shape: [ch], layout: 'same', init: { kind: 'const', value: 0 }, trainable: true })
  }

  specs.push({ name: 'embed.0.W', shape: [E / 2], layout: 'same', init: { kind: 'normal', std: cfg.fourierScale }, trainable: false })
  linear('embed.1', E, E)
  conv('conv1', cin, c0), linear('dense1.dense', E, c0), gnorm('gnorm1', c0)
  conv('conv2', c0, c1), linear('dense2.dense', E, c1), gnorm('gnorm2', c1)
  conv('conv3', c1, c2), linear('dense3.dense', E, c2), gnorm('gnorm3', c2)
  conv('conv4', c2, c3), linear('dense4.dense', E, c3), gnorm('gnorm4', c3)
  tconv('tconv4', c3, c2), linear('dense5.dense', E, c2), gnorm('tgnorm4', c2)
  tconv('tconv3', 2 * c2, c1), linear('dense6.dense', E, c1), gnorm('tgnorm3', c1)
  tconv('tconv2', 2 * c1, c0), linear('dense7.dense', E, c0), gnorm('tgnorm2', c0)
  tconv('tconv1', 2 * c0, cin)
  specs.push({ name: 'tconv1.bias', shape: [cin], layout: 'same', init: torchDefaultInit(cin * 9), trainable: true })
  // Last, so the tutorial's weights draw the same initial values with or without classes.
  specs.push(...labelEmbedSpecs(cfg.classes, E))
  return specs
}

export class ScoreNet extends StoredModel implements TorchCompatibleModel {
  constructor(
    readonly name: string,
    readonly cfg: ScoreNetConfig,
    private readonly sde: Sde,
    seed: number
  ) {
    // outputPadding is derived from the shape, so the stored config leaves it out.
    const { outputPadding: _derived, ...rest } = cfg
    super(scoreNetSpecs(cfg), seed, uniquePrefix(name), withClasses(rest) as unknown as Record<string, unknown>, cfg.classes)
  }

  score(x: tf.Tensor, t: tf.Tensor1D, labels?: tf.Tensor1D): tf.Tensor {
    const { shape, groups, outputPadding: op } = this.cfg
    if (x.rank !== 4 || x.shape.slice(1).join() !== shape.join()) {
      throw new Error(`${this.name} expects x of shape [B, ${shape.join(', ')}], got [${x.shape.join(', ')}]`)
    }
    this.checkLabels(labels, x.shape[0])
    return tf.tidy(() => {
      const P = (n: string) => this.store.get(n)
      const B = x.shape[0]
      const time = swish(dense(gaussianFourierProjection(t, P('embed.0.W')), P('embed.1.weight'), P('embed.1.bias')))
      const embed = this.addLabelEmbedding(time, labels)
      // Dense(embed)[..., None, None] in NCHW is a per-channel bias: [B, C] here.
      const timeBias = (n: string) => dense(embed, P(`${n}.dense.weight`), P(`${n}.dense.bias`))
      const block = (h: tf.Tensor, d: string, gn: string, g: number) => groupNormSwish(h, timeBias(d), g, P(`${gn}.weight`), P(`${gn}.bias`))

      const h1 = block(conv2d(x, P('conv1.weight'), 1), 'dense1', 'gnorm1', groups[0])
      const h2 = block(conv2d(h1, P('conv2.weight'), 2), 'dense2', 'gnorm2', groups[1])
      const h3 = block(conv2d(h2, P('conv3.weight'), 2), 'dense3', 'gnorm3', groups[2])
      const h4 = block(conv2d(h3, P('conv4.weight'), 2), 'dense4', 'gnorm4', groups[3])

      let h = block(conv2dTranspose(h4, P('tconv4.weight'), 2, op.tconv4), 'dense5', 'tgnorm4', groups[4])
      h = block(conv2dTranspose(tf.concat([h, h3], 3), P('tconv3.weight'), 2, op.tconv3), 'dense6', 'tgnorm3', groups[5])
      h = block(conv2dTranspose(tf.concat([h, h2], 3), P('tconv2.weight'), 2, op.tconv2), 'dense7', 'tgnorm2', groups[6])
      h = tf.add(conv2dTranspose(tf.concat([h, h1], 3), P('tconv1.weight'), 1), P('tconv1.bias'))

      const { std } = this.sde.marginalProb(x, t)
      return tf.div(h, tf.reshape(std, [B, 1, 1, 1]))
    })
  }

}

/** Registry factory for `scorenet` (the tutorial's defaults; options may widen it). */
export function createScoreNet(opts: ModelOptions, name = 'scorenet'): ScoreNet {
  return new ScoreNet(name, resolveScoreNetConfig(opts.shape, opts.options), opts.sde, opts.seed)
}
