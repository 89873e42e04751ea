// NHWC 2-D convolutions (filter HWIO) as im2col + SGEMM, split over output pixels across the pool.
#pragma once

namespace sl {

struct ConvGeom {
  int B, H, W, C;     // input x [B, H, W, C]
  int OH, OW, CO;     // output y [B, OH, OW, CO]
  int KH, KW;         // filter [KH, KW, C, CO]
  int sh, sw;         // strides
  int dh, dw;         // dilations
  int top, left;      // padding before (after-padding is implied by OH/OW)
};

/** y = conv(x, w). */
void conv2dForward(const ConvGeom& g, const float* x, const float* w, float* y);
/** dx = conv2d's input gradient from dy (also a transposed convolution's forward pass). */
void conv2dBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx);
/** dw = conv2d's filter gradient from x and dy. */
void conv2dBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw);

}  // namespace sl
