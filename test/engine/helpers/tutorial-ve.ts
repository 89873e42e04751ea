// A stand-in for the tutorial's VE SDE (σ = 25) with only what the networks use: the std of
// p_0t. Computed in float32 with the tutorial's operation order, (σ^(2t) − 1) / 2 / ln σ, so the
// parity test sees the same rounding as PyTorch (at t = 1e-5 the subtraction cancels badly and
// a float64 std differs from PyTorch's float32 one by ~5e-4 relative).
import { tf } from '../../../src/engine/tf'
import type { Sde } from '../../../src/engine/sde/types'

export function tutorialVe(sigma = 25): Sde {
  const notUsed = (what: string) => () => {
    throw new Error(`tutorialVe test stand-in: ${what} is not implemented`)
  }
  const stdAt = (t: number) => Math.sqrt((sigma ** (2 * t) - 1) / (2 * Math.log(sigma)))
  return {
    name: 'tutorial_ve_test',
    T: 1,
    N: 1000,
    defaultEps: 1e-3,
    marginalProb: (x0: tf.Tensor, t: tf.Tensor1D) =>
      tf.tidy(() => ({
        mean: tf.clone(x0),
        std: tf.sqrt(tf.div(tf.div(tf.sub(tf.pow(tf.scalar(sigma), tf.mul(t, 2)), 1), 2), Math.log(sigma))) as tf.Tensor1D
      })),
    marginalStdAt: stdAt,
    diffusionAt: (t: number) => sigma ** t,
    sde: notUsed('sde'),
    priorSampling: notUsed('priorSampling'),
    priorLogp: notUsed('priorLogp'),
    discretize: notUsed('discretize'),
    toConfig: () => ({ name: 'tutorial_ve_test', sigma })
  } as unknown as Sde
}
