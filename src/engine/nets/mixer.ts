// `mixer`: a time-conditional MLP-Mixer (Tolstikhin et al., 2021) for quick experiments.
// Much cheaper per step than the U-Net: every layer is a matmul, and the only convolutions are
// the patch stem and head (kernel = stride = patch, no overlap).
//
//   x [B,H,W,C] → stem conv (patch×patch, stride patch) → tokens [B, N = HW/patch², hidden]
//   per block:  h += Dense(embed)                         (time conditioning, one bias per channel)
//               h += TokenMLP(LayerNorm(h))ᵀ              (mixes across the N tokens: N → tokenMix → N)
//               h += ChannelMLP(LayerNorm(h))             (mixes channels: hidden → channelMix → hidden)
//   LayerNorm → head transposed conv back to [B,H,W,C] → ÷ std(t)  (predicts −z, like scorenet)
// The time embedding is the tutorial's (Gaussian Fourier features + Linear + swish).
// Names follow PyTorch conventions (`blocks.0.token_mix.0.weight`), so export to PyTorch works.
import { z } from 'zod'
import { tf } from '../tf'
import type { Sde } from '../sde/types'
import type { ModelOptions, TorchCompatibleModel } from './types'
import {
  conv2d,
  conv2dTranspose,
  dense,
  gaussianFourierProjection,
  gelu,
  layerNorm,
  swish,
  torchDefaultInit,
  uniquePrefix,
  type ParamSpec
} from './layers'
import { StoredModel } from './stored-model'

export const MixerOptionsSchema = z
  .object({
    shape: z.array(z.number().int().positive()).length(3).optional(),
    patch: z.number().int().positive().default(4),
    hidden: z.number().int().positive().default(64),
    tokenMix: z.number().int().positive().default(512),
    channelMix: z.number().int().positive().default(512),
    blocks: z.number().int().positive().default(4),
    embedDim: z.number().int().positive().multipleOf(2).default(256),
    fourierScale: z.number().positive().default(30)
  })
  .strict()

export type MixerConfig = Required<Omit<z.output<typeof MixerOptionsSchema>, 'shape'>> & { shape: [number, number, number] }

export function resolveMixerConfig(shape: number[], options: unknown = {}): MixerConfig {
  if (shape.length !== 3) throw new Error(`mixer needs an image shape [H, W, C], got [${shape.join(', ')}]`)
  const parsed = MixerOptionsSchema.safeParse(options ?? {})
  if (!parsed.success) throw new Error(`mixer options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`)
  const { shape: given, ...o } = parsed.data
  if (given && given.join() !== shape.join()) throw new Error(`mixer options.shape [${given.join(', ')}] differs from the data shape [${shape.join(', ')}]`)
  const [h, w, c] = shape as [number, number, number]
  if (h % o.patch !== 0 || w % o.patch !== 0) throw new Error(`mixer: image ${h}×${w} is not divisible into ${o.patch}×${o.patch} patches`)
  return { ...o, shape: [h, w, c] }
}

export function mixerSpecs(cfg: MixerConfig): ParamSpec[] {
  const [h, w, c] = cfg.shape
  const { patch: p, hidden, tokenMix, channelMix, embedDim: E } = cfg
  const tokens = (h / p) * (w / p)
  const specs: ParamSpec[] = []
  const linear = (name: string, inF: number, outF: number) => {
    specs.push({ name: `${name}.weight`, shape: [inF, outF], layout: 'linear', init: torchDefaultInit(inF), trainable: true })
    specs.push({ name: `${name}.bias`, shape: [outF], layout: 'same', init: torchDefaultInit(inF), trainable: true })
  }
  const norm = (name: string, ch: number) => {
    specs.push({ name: `${name}.weight`, shape: [ch], layout: 'same', init: { kind: 'const', value: 1 }, trainable: true })
    specs.push({ name: `${name}.bias`, shape: [ch], layout: 'same', init: { kind: 'const', value: 0 }, trainable: true })
  }
  specs.push({ name: 'embed.0.W', shape: [E / 2], layout: 'same', init: { kind: 'normal', std: cfg.fourierScale }, trainable: false })
  linear('embed.1', E, E)
  specs.push({ name: 'stem.weight', shape: [p, p, c, hidden], layout: 'conv2d', init: torchDefaultInit(c * p * p), trainable: true })
  specs.push({ name: 'stem.bias', shape: [hidden], layout: 'same', init: torchDefaultInit(c * p * p), trainable: true })
  for (let i = 0; i < cfg.blocks; i++) {
    const b = `blocks.${i}`
    linear(`${b}.time`, E, hidden)
    norm(`${b}.norm1`, hidden)
    linear(`${b}.token_mix.0`, tokens, tokenMix)
    linear(`${b}.token_mix.2`, tokenMix, tokens)
    norm(`${b}.norm2`, hidden)
    linear(`${b}.channel_mix.0`, hidden, channelMix)
    linear(`${b}.channel_mix.2`, channelMix, hidden)
  }
  norm('norm', hidden)
  // ConvTranspose2d(hidden → C, k = s = patch): PyTorch fan_in = weight.size(1)·k² = C·p².
  specs.push({ name: 'head.weight', shape: [p, p, c, hidden], layout: 'conv_transpose2d', init: torchDefaultInit(c * p * p), trainable: true })
  specs.push({ name: 'head.bias', shape: [c], layout: 'same', init: torchDefaultInit(c * p * p), trainable: true })
  return specs
}

export class Mixer extends StoredModel implements TorchCompatibleModel {
  readonly name = 'mixer'

  constructor(
    readonly cfg: MixerConfig,
    private readonly sde: Sde,
    seed: number
  ) {
    super(mixerSpecs(cfg), seed, uniquePrefix('mixer'), cfg as unknown as Record<string, unknown>)
  }

  score(x: tf.Tensor, t: tf.Tensor1D, labels?: tf.Tensor1D): tf.Tensor {
    this.checkLabels(labels, x.shape[0]!) // unconditional: refuses labels rather than ignoring them
    const { shape, patch: p, hidden } = this.cfg
    if (x.rank !== 4 || x.shape.slice(1).join() !== shape.join()) {
      throw new Error(`mixer expects x of shape [B, ${shape.join(', ')}], got [${x.shape.join(', ')}]`)
    }
    return tf.tidy(() => {
      const P = (n: string) => this.store.get(n)
      const B = x.shape[0]
      const [gh, gw] = [shape[0] / p, shape[1] / p]
      const N = gh * gw
      const mlp = (v: tf.Tensor, name: string) => dense(gelu(dense(v, P(`${name}.0.weight`), P(`${name}.0.bias`))), P(`${name}.2.weight`), P(`${name}.2.bias`))
      const embed = swish(dense(gaussianFourierProjection(t, P('embed.0.W')), P('embed.1.weight'), P('embed.1.bias')))

      let h: tf.Tensor = tf.reshape(tf.add(conv2d(x, P('stem.weight'), p), P('stem.bias')), [B, N, hidden])
      for (let i = 0; i < this.cfg.blocks; i++) {
        const b = `blocks.${i}`
        h = tf.add(h, tf.reshape(dense(embed, P(`${b}.time.weight`), P(`${b}.time.bias`)), [B, 1, hidden]))
        // token mixing: an MLP along the token axis, shared across channels
        const u = tf.reshape(tf.transpose(layerNorm(h, P(`${b}.norm1.weight`), P(`${b}.norm1.bias`)), [0, 2, 1]), [B * hidden, N])
        h = tf.add(h, tf.transpose(tf.reshape(mlp(u, `${b}.token_mix`), [B, hidden, N]), [0, 2, 1]))
        // channel mixing: an MLP along the channel axis, shared across tokens
        const v = tf.reshape(layerNorm(h, P(`${b}.norm2.weight`), P(`${b}.norm2.bias`)), [B * N, hidden])
        h = tf.add(h, tf.reshape(mlp(v, `${b}.channel_mix`), [B, N, hidden]))
      }
      const grid = tf.reshape(layerNorm(h, P('norm.weight'), P('norm.bias')), [B, gh, gw, hidden])
      const out = tf.add(conv2dTranspose(grid, P('head.weight'), p), P('head.bias'))
      const { std } = this.sde.marginalProb(x, t)
      return tf.div(out, tf.reshape(std, [B, 1, 1, 1]))
    })
  }

}

export function createMixer(opts: ModelOptions): Mixer {
  return new Mixer(resolveMixerConfig(opts.shape, opts.options), opts.sde, opts.seed)
}
