// A sigmoid whose gradient can itself be differentiated (double backprop), for the networks that
// sliced score matching trains (loss/ssm.ts differentiates ∇ₓ(vᵀs) with respect to the weights).
//
// Why tf.sigmoid is not enough: its registered gradient dy·y·(1 − y) reuses the saved OUTPUT y.
// tfjs saves a copy of y whose tape node is recorded before the Sigmoid node itself, so the tape's
// in-order "reachable from x" pass never links that copy to x: a second derivative through it is
// silently missing the σ'' term (or, when that is the only path, tf.grad throws "Cannot compute
// gradient"). Tanh, Exp, Elu, Softmax and Pow gradients share the flaw (test/engine/ssm.test.ts
// shows it for sigmoid and tanh). Here the gradient is built from the saved INPUT x, whose copy
// is linked to x, and recomputes σ(x) with the same arithmetic as tfjs (mul(dy, mul(s, 1 − s))),
// so first-order results are bit-identical to tf.sigmoid's.
import { tf } from '../tf'

export const sigmoidTwice = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc]
  save([x])
  return {
    value: tf.sigmoid(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const s = tf.sigmoid(saved[0]!)
      return [tf.mul(dy, tf.mul(s, tf.sub(tf.scalar(1), s)))]
    }
  }
}) as (x: tf.Tensor) => tf.Tensor
