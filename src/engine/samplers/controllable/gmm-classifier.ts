// The exact noise-conditional classifier of a Gaussian-mixture toy (toy-gmm): the perturbed
// marginal is p_t = Σ_k w_k N(m μ_k, v_k I), v_k = m²s_k² + σ² (m, σ: the SDE's kernel at t), so
//   log p_t(k | x) = log w_k + log N(x; m μ_k, v_k I) − log p_t(x),
// and the conditional score ∇ log p_t(x) + ∇ log p_t(k | x) is exactly the score of component k,
// −(x − m μ_k)/v_k: the known answer for class-conditional sampling.
import { tf } from '../../tf'
import type { Sde } from '../../sde/types'
import type { GmmOptions } from '../../toy/gmm'
import type { ClassifierFn } from './conditional'

/** log p_t(k | x) [B, K] for a mixture given as toy-gmm options (or a GmmToy's `config`). */
export function gmmClassifier(mixture: GmmOptions | { config: Record<string, unknown> }, sde: Sde): ClassifierFn {
  const { means, stds, weights } = ('config' in mixture ? mixture.config : mixture) as GmmOptions
  const K = means.length
  const D = means[0].length
  const total = weights.reduce((a, b) => a + b, 0)
  const logW = weights.map((w) => Math.log(w / total))
  return (x, t) =>
    tf.tidy(() => {
      const B = x.shape[0]
      const { meanCoeff, std } = sde.marginalCoeffs(t)
      const m = tf.reshape(meanCoeff, [B, 1])
      const v = tf.add(tf.mul(tf.square(m), tf.tensor2d([stds.map((s) => s * s)], [1, K])), tf.reshape(tf.square(std), [B, 1])) // [B,K]
      const centres = tf.mul(tf.reshape(m, [B, 1, 1]), tf.tensor3d([means.map((mu) => [...mu])], [1, K, D])) // [B,K,D]
      const sq = tf.sum(tf.square(tf.sub(tf.reshape(x, [B, 1, D]), centres)), 2) // [B,K]
      const logN = tf.sub(tf.mul(tf.log(tf.mul(v, 2 * Math.PI)), -D / 2), tf.div(sq, tf.mul(v, 2)))
      return tf.logSoftmax(tf.add(logN, tf.tensor2d([logW], [1, K])))
    })
}
