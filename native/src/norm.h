// GroupNorm fused with the per-(sample, channel) bias before it and the swish after it — the
// block scorenet repeats seven times — forward and backward, NHWC.
#pragma once

namespace sl {

struct NormGeom {
  int B, HW, C, G;
  float eps;
  int swish;    // 1: y = z·sigmoid(z), 0: y = z
  int hasBias;  // 1: x + bias[b, c] before the norm
};

/** y = act(gamma·norm(x + bias) + beta); saves mean and rstd per (b, g). */
void groupNormForward(const NormGeom& g, const float* x, const float* bias, const float* gamma, const float* beta, float* y, float* mean,
                      float* rstd);
/** Gradients for x (= for bias summed over HW), gamma and beta from dy and the saved statistics. */
void groupNormBackward(const NormGeom& g, const float* dy, const float* x, const float* bias, const float* gamma, const float* beta,
                       const float* mean, const float* rstd, float* dx, float* dbias, float* dgamma, float* dbeta);

}  // namespace sl
