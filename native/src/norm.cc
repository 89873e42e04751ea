// Loops run over the channels of one pixel (contiguous in NHWC) with per-channel coefficients
// precomputed from the group statistics, so the compiler vectorises them; the tutorial's groups
// hold 1–8 channels, too few for a per-group inner loop. sigmoid uses expApprox (below) because
// std::exp does not vectorise without -ffast-math.
#include "norm.h"

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <vector>

#include "pool.h"

#if defined(_MSC_VER)
#define SL_INLINE __forceinline
#else
#define SL_INLINE __attribute__((always_inline)) inline
#endif

namespace sl {
namespace {
using idx = std::ptrdiff_t;

// e^x to ~2 ulp for |x| ≤ 87 (Cephes' expf: range reduction by ln 2, degree-6 polynomial),
// branch-free so that loops calling it vectorise. Out-of-range inputs saturate.
SL_INLINE float expApprox(float x) {
  x = std::max(-87.f, std::min(88.f, x));
  // Round to nearest by the 1.5·2^23 trick: std::floor/nearbyint need SSE4.1 to vectorise.
  const float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  const int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof scale);
  return p * scale;
}

SL_INLINE float sigmoid(float z) { return 1.f / (1.f + expApprox(-z)); }

}  // namespace

void groupNormForward(const NormGeom& g, const float* x, const float* bias, const float* gamma, const float* beta, float* y, float* mean,
                      float* rstd) {
  const int C = g.C, cg = C / g.G;
  const int parts = std::min(threads(), g.B);
  parallelFor(parts, [&](int part) {
    std::vector<float> sc(C), bc(C), mc(C), a(C);
    std::vector<double> s(g.G), ss(g.G);
    for (int b = part * g.B / parts; b < (part + 1) * g.B / parts; b++) {
      const float* xb = x + static_cast<idx>(b) * g.HW * C;
      float* yb = y + static_cast<idx>(b) * g.HW * C;
      for (int c = 0; c < C; c++) bc[c] = g.hasBias ? bias[static_cast<idx>(b) * C + c] : 0.f;
      // Mean, then the centred second moment (two passes: no cancellation for large means). The
      // float per-channel sums are shifted by the first pixel so that they stay small and exact.
      std::fill(sc.begin(), sc.end(), 0.f);
      for (idx p = 0; p < g.HW; p++) {
        const float* xp = xb + p * C;
        for (int c = 0; c < C; c++) sc[c] += xp[c] - xb[c];
      }
      const double n = static_cast<double>(g.HW) * cg;
      std::fill(s.begin(), s.end(), 0.0);
      for (int c = 0; c < C; c++) s[c / cg] += static_cast<double>(sc[c]) + (static_cast<double>(xb[c]) + bc[c]) * g.HW;
      for (int c = 0; c < C; c++) mc[c] = static_cast<float>(s[c / cg] / n) - bc[c];  // x − mc = x + bias − mean
      std::fill(sc.begin(), sc.end(), 0.f);
      for (idx p = 0; p < g.HW; p++) {
        const float* xp = xb + p * C;
        for (int c = 0; c < C; c++) {
          const float d = xp[c] - mc[c];
          sc[c] += d * d;
        }
      }
      std::fill(ss.begin(), ss.end(), 0.0);
      for (int c = 0; c < C; c++) ss[c / cg] += sc[c];
      for (int gi = 0; gi < g.G; gi++) {
        mean[b * g.G + gi] = static_cast<float>(s[gi] / n);
        rstd[b * g.G + gi] = static_cast<float>(1.0 / std::sqrt(ss[gi] / n + g.eps));
      }
      // z = (x − mc)·(rstd·gamma) + beta; not x·a + (beta − mc·a), which cancels when |mean| ≫ std.
      for (int c = 0; c < C; c++) a[c] = rstd[b * g.G + c / cg] * gamma[c];
      for (idx p = 0; p < g.HW; p++) {
        const float* xp = xb + p * C;
        float* yp = yb + p * C;
        if (g.swish) {
          for (int c = 0; c < C; c++) {
            const float z = (xp[c] - mc[c]) * a[c] + beta[c];
            yp[c] = z * sigmoid(z);
          }
        } else {
          for (int c = 0; c < C; c++) yp[c] = (xp[c] - mc[c]) * a[c] + beta[c];
        }
      }
    }
  });
}

void groupNormBackward(const NormGeom& g, const float* dy, const float* x, const float* bias, const float* gamma, const float* beta,
                       const float* mean, const float* rstd, float* dx, float* dbias, float* dgamma, float* dbeta) {
  const int C = g.C, cg = C / g.G;
  const int parts = std::min(threads(), g.B);
  std::vector<double> pg(static_cast<size_t>(parts) * C), pb(static_cast<size_t>(parts) * C);
  parallelFor(parts, [&](int part) {
    double* dgam = pg.data() + static_cast<size_t>(part) * C;
    double* dbet = pb.data() + static_cast<size_t>(part) * C;
    std::vector<float> P(C), Q(C), dzc(C), dzxc(C), U(C), V(C), W(C), dbc(C);
    std::vector<double> sdz(g.G), sdzx(g.G);
    for (int b = part * g.B / parts; b < (part + 1) * g.B / parts; b++) {
      const idx off = static_cast<idx>(b) * g.HW * C;
      const float* xb = x + off;
      const float* dyb = dy + off;
      float* dxb = dx + off;
      // x̂ = (x + bias − mean)·rstd = (x − Q)·P, with Q = mean − bias
      for (int c = 0; c < C; c++) {
        const int gi = b * g.G + c / cg;
        P[c] = rstd[gi];
        Q[c] = mean[gi] - (g.hasBias ? bias[static_cast<idx>(b) * C + c] : 0.f);
      }
      // Pass 1: dz = dy·act'(z) (kept in dx), Σdz and Σdz·x̂ per channel.
      std::fill(dzc.begin(), dzc.end(), 0.f);
      std::fill(dzxc.begin(), dzxc.end(), 0.f);
      for (idx p = 0; p < g.HW; p++) {
        const float* __restrict xp = xb + p * C;
        const float* __restrict dyp = dyb + p * C;
        float* __restrict dzp = dxb + p * C;
        float* __restrict sdzc = dzc.data();
        float* __restrict sdzxc = dzxc.data();
        const float* __restrict Pc = P.data();
        const float* __restrict Qc = Q.data();
        if (g.swish) {
          // Two loops: GCC vectorises neither half when they are fused.
          for (int c = 0; c < C; c++) {
            const float z = (xp[c] - Qc[c]) * Pc[c] * gamma[c] + beta[c];
            const float sg = sigmoid(z);
            dzp[c] = dyp[c] * (sg * (1.f + z * (1.f - sg)));
          }
          for (int c = 0; c < C; c++) {
            const float dz = dzp[c];
            sdzc[c] += dz;
            sdzxc[c] += dz * ((xp[c] - Qc[c]) * Pc[c]);
          }
        } else {
          for (int c = 0; c < C; c++) {
            const float xh = (xp[c] - Q[c]) * P[c];
            const float dz = dyp[c];
            dzp[c] = dz;
            dzc[c] += dz;
            dzxc[c] += dz * xh;
          }
        }
      }
      std::fill(sdz.begin(), sdz.end(), 0.0);
      std::fill(sdzx.begin(), sdzx.end(), 0.0);
      for (int c = 0; c < C; c++) {
        dgam[c] += dzxc[c];
        dbet[c] += dzc[c];
        sdz[c / cg] += static_cast<double>(dzc[c]) * gamma[c];
        sdzx[c / cg] += static_cast<double>(dzxc[c]) * gamma[c];
      }
      // Pass 2: dx = rstd·(dz·gamma − mean(dx̂) − x̂·mean(dx̂·x̂)) = dz·U + x̂·V + W
      const double n = static_cast<double>(g.HW) * cg;
      for (int c = 0; c < C; c++) {
        const int gi = c / cg;
        U[c] = P[c] * gamma[c];
        V[c] = -P[c] * static_cast<float>(sdzx[gi] / n);
        W[c] = -P[c] * static_cast<float>(sdz[gi] / n);
      }
      std::fill(dbc.begin(), dbc.end(), 0.f);
      for (idx p = 0; p < g.HW; p++) {
        const float* xp = xb + p * C;
        float* dzp = dxb + p * C;
        for (int c = 0; c < C; c++) {
          const float xh = (xp[c] - Q[c]) * P[c];
          const float v = dzp[c] * U[c] + xh * V[c] + W[c];
          dzp[c] = v;
          dbc[c] += v;
        }
      }
      if (g.hasBias) std::memcpy(dbias + static_cast<idx>(b) * C, dbc.data(), sizeof(float) * C);
    }
  });
  for (int c = 0; c < C; c++) {
    double a = 0, bsum = 0;
    for (int p = 0; p < parts; p++) {
      a += pg[static_cast<size_t>(p) * C + c];
      bsum += pb[static_cast<size_t>(p) * C + c];
    }
    dgamma[c] = static_cast<float>(a);
    dbeta[c] = static_cast<float>(bsum);
  }
}

}  // namespace sl
