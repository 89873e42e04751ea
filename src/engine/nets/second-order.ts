// Which networks have gradients that tfjs can differentiate again (double backprop), as sliced
// score matching needs: its loss holds ∇ₓ(vᵀs), and training takes that term's gradient with
// respect to the weights. A model that fails does not throw in general: tfjs silently drops
// terms of the second derivative (ops/sigmoid.ts explains how), so a run would train on a wrong
// gradient. Hence a reviewed list, not a probe: null = checked (test/engine/ssm.test.ts compares
// the parameter gradient with finite differences), a string = why not.
import { MODELS } from './index'

const SAVED_OUTPUT =
  "whose gradient reuses the op's saved output, which tfjs' tape does not connect to the input for a second derivative, so the weights' gradient of the Jacobian term would silently miss terms"

const GROUP_NORM_SWISH =
  `its GroupNorm+swish blocks do not support second-order gradients: on the wasm backend the fused native GroupNorm kernel's gradient kernel has no gradient of its own, and elsewhere the blocks use tf.sigmoid, ${SAVED_OUTPUT}`

export const SECOND_ORDER: Readonly<Record<string, string | null>> = {
  mlp: null,
  scorenet: GROUP_NORM_SWISH,
  scorenet_color: GROUP_NORM_SWISH,
  mixer: `its GELU uses tf.tanh, ${SAVED_OUTPUT}`
}

/** Why `model` cannot be trained through a second derivative, or null when it can. */
export function secondOrderProblem(model: string): string | null {
  if (!Object.hasOwn(MODELS, model)) return `"${model}" is not a known model`
  if (!Object.hasOwn(SECOND_ORDER, model)) return `"${model}" has not been checked for second-order gradients`
  return SECOND_ORDER[model]!
}
