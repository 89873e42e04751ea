#include "conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "pool.h"

namespace sl {
namespace {

using idx = std::ptrdiff_t;

// Rows [m0, m1) of the im2col matrix: row m = output pixel (b, oy, ox), columns (kh, kw, c).
void im2col(const ConvGeom& g, const float* x, idx m0, idx m1, float* col) {
  const idx K = static_cast<idx>(g.KH) * g.KW * g.C;
  const idx plane = static_cast<idx>(g.OH) * g.OW;
  for (idx m = m0; m < m1; m++) {
    const idx b = m / plane, r = m % plane;
    const int oy = static_cast<int>(r / g.OW), ox = static_cast<int>(r % g.OW);
    float* row = col + (m - m0) * K;
    for (int kh = 0; kh < g.KH; kh++) {
      const int iy = oy * g.sh - g.top + kh * g.dh;
      for (int kw = 0; kw < g.KW; kw++) {
        const int ix = ox * g.sw - g.left + kw * g.dw;
        float* dst = row + (static_cast<idx>(kh) * g.KW + kw) * g.C;
        if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W)
          std::memset(dst, 0, sizeof(float) * g.C);
        else
          std::memcpy(dst, x + ((b * g.H + iy) * g.W + ix) * g.C, sizeof(float) * g.C);
      }
    }
  }
}

// Splits [0, n) into `parts` nearly equal ranges.
inline void range(idx n, int parts, int i, idx& lo, idx& hi) {
  lo = n * i / parts;
  hi = n * (i + 1) / parts;
}

// Split only work worth a thread wake-up: measured on the whole tutorial ScoreNet at batch 1
// (bench/README.md, `scorenet`), splitting its 2–11 MFLOP convolutions made a sampling step slower
// than one thread (the other ops run on wasm meanwhile), so the bar is 16 MFLOP.
int piecesFor(idx rows, idx flopsPerRow) {
  const idx work = rows * flopsPerRow;
  const int t = threads();
  if (t <= 1 || work < (1 << 24)) return 1;
  return static_cast<int>(std::min<idx>(t, rows));
}

thread_local std::vector<float> scratch;
float* scratchOf(size_t n) {
  if (scratch.size() < n) scratch.resize(n);
  return scratch.data();
}

// Rows processed at once per piece, so im2col buffers stay around 1–4 MiB.
idx chunkRows(idx K) { return std::max<idx>(static_cast<idx>(96), (1 << 20) / std::max<idx>(K, 1)); }

}  // namespace

void conv2dForward(const ConvGeom& g, const float* x, const float* w, float* y) {
  const idx M = static_cast<idx>(g.B) * g.OH * g.OW;
  const idx K = static_cast<idx>(g.KH) * g.KW * g.C;
  const bool pointwise = g.KH == 1 && g.KW == 1 && g.sh == 1 && g.sw == 1 && g.top == 0 && g.left == 0 && g.OH == g.H && g.OW == g.W;
  const int parts = piecesFor(M, 2 * K * g.CO);
  parallelFor(parts, [&](int i) {
    idx lo, hi;
    range(M, parts, i, lo, hi);
    if (pointwise) {
      sgemm(static_cast<int>(hi - lo), g.CO, static_cast<int>(K), x + lo * K, K, 1, w, g.CO, 1, y + lo * g.CO, g.CO, false);
      return;
    }
    const idx step = chunkRows(K);
    for (idx m0 = lo; m0 < hi; m0 += step) {
      const idx m1 = std::min(hi, m0 + step);
      float* col = scratchOf(static_cast<size_t>((m1 - m0) * K));
      im2col(g, x, m0, m1, col);
      sgemm(static_cast<int>(m1 - m0), g.CO, static_cast<int>(K), col, K, 1, w, g.CO, 1, y + m0 * g.CO, g.CO, false);
    }
  });
}

void conv2dBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  const idx M = static_cast<idx>(g.B) * g.OH * g.OW;
  const idx K = static_cast<idx>(g.KH) * g.KW * g.C;
  // dcol[M×K] = dy[M×CO] · wᵀ (w is [K×CO] row-major, so wᵀ(co, k) = w[k·CO + co]).
  std::vector<float> dcol(static_cast<size_t>(M * K));
  const int parts = piecesFor(M, 2 * K * g.CO);
  parallelFor(parts, [&](int i) {
    idx lo, hi;
    range(M, parts, i, lo, hi);
    sgemm(static_cast<int>(hi - lo), static_cast<int>(K), g.CO, dy + lo * g.CO, g.CO, 1, w, 1, g.CO, dcol.data() + lo * K, K, false);
  });
  // col2im as a gather: every input pixel sums the window entries that read it, so pieces
  // (ranges of input rows) never write the same place.
  const idx rows = static_cast<idx>(g.B) * g.H;
  const int parts2 = piecesFor(rows, static_cast<idx>(g.W) * g.C * g.KH * g.KW);
  parallelFor(parts2, [&](int i) {
    idx lo, hi;
    range(rows, parts2, i, lo, hi);
    for (idx r = lo; r < hi; r++) {
      const idx b = r / g.H;
      const int iy = static_cast<int>(r % g.H);
      for (int ix = 0; ix < g.W; ix++) {
        float* out = dx + (r * g.W + ix) * g.C;
        std::fill(out, out + g.C, 0.f);
        for (int kh = 0; kh < g.KH; kh++) {
          const int ty = iy + g.top - kh * g.dh;
          if (ty < 0 || ty % g.sh != 0) continue;
          const int oy = ty / g.sh;
          if (oy >= g.OH) continue;
          for (int kw = 0; kw < g.KW; kw++) {
            const int tx = ix + g.left - kw * g.dw;
            if (tx < 0 || tx % g.sw != 0) continue;
            const int ox = tx / g.sw;
            if (ox >= g.OW) continue;
            const float* src = dcol.data() + ((b * g.OH + oy) * g.OW + ox) * K + (static_cast<idx>(kh) * g.KW + kw) * g.C;
            for (int c = 0; c < g.C; c++) out[c] += src[c];
          }
        }
      }
    }
  });
}

void conv2dBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  const idx M = static_cast<idx>(g.B) * g.OH * g.OW;
  const idx K = static_cast<idx>(g.KH) * g.KW * g.C;
  const int parts = piecesFor(M, 2 * K * g.CO);
  // Each piece reduces its own pixel range into its own partial dw; piece 0 writes dw itself.
  std::vector<float> partials(static_cast<size_t>(std::max(0, parts - 1)) * K * g.CO);
  parallelFor(parts, [&](int i) {
    idx lo, hi;
    range(M, parts, i, lo, hi);
    float* out = i == 0 ? dw : partials.data() + static_cast<size_t>(i - 1) * K * g.CO;
    const idx step = chunkRows(K);
    bool acc = false;
    if (lo == hi) std::fill(out, out + K * g.CO, 0.f);
    for (idx m0 = lo; m0 < hi; m0 += step) {
      const idx m1 = std::min(hi, m0 + step);
      float* col = scratchOf(static_cast<size_t>((m1 - m0) * K));
      im2col(g, x, m0, m1, col);
      // dw[K×CO] (+)= colᵀ[K×rows] · dy[rows×CO]
      sgemm(static_cast<int>(K), g.CO, static_cast<int>(m1 - m0), col, 1, K, dy + m0 * g.CO, g.CO, 1, out, g.CO, acc);
      acc = true;
    }
  });
  const idx n = K * g.CO;
  for (int i = 1; i < parts; i++) {
    const float* p = partials.data() + static_cast<size_t>(i - 1) * n;
    for (idx j = 0; j < n; j++) dw[j] += p[j];
  }
}

}  // namespace sl
