#include "norm.h"

#include <cmath>
#include <vector>

#include "pool.h"

namespace sl {
namespace {
using idx = std::ptrdiff_t;
inline float sigmoid(float z) { return 1.f / (1.f + std::exp(-z)); }
}  // namespace

void groupNormForward(const NormGeom& g, const float* x, const float* bias, const float* gamma, const float* beta, float* y, float* mean,
                      float* rstd) {
  const int cg = g.C / g.G;
  const int parts = std::min(threads(), g.B);
  parallelFor(parts, [&](int part) {
    std::vector<double> s(g.G), ss(g.G);
    std::vector<float> m(g.G), r(g.G);
    for (int b = part * g.B / parts; b < (part + 1) * g.B / parts; b++) {
      const float* xb = x + static_cast<idx>(b) * g.HW * g.C;
      const float* bb = g.hasBias ? bias + static_cast<idx>(b) * g.C : nullptr;
      float* yb = y + static_cast<idx>(b) * g.HW * g.C;
      // Two passes over x (mean, then centred squares) in float for speed; double accumulators
      // keep the sums of up to ~10^5 terms accurate.
      std::fill(s.begin(), s.end(), 0.0);
      for (idx p = 0; p < g.HW; p++) {
        const float* xp = xb + p * g.C;
        for (int gi = 0; gi < g.G; gi++) {
          float acc = 0.f;
          for (int c = gi * cg; c < (gi + 1) * cg; c++) acc += xp[c] + (bb ? bb[c] : 0.f);
          s[gi] += acc;
        }
      }
      const double n = static_cast<double>(g.HW) * cg;
      for (int gi = 0; gi < g.G; gi++) m[gi] = static_cast<float>(s[gi] / n);
      std::fill(ss.begin(), ss.end(), 0.0);
      for (idx p = 0; p < g.HW; p++) {
        const float* xp = xb + p * g.C;
        for (int gi = 0; gi < g.G; gi++) {
          float acc = 0.f;
          for (int c = gi * cg; c < (gi + 1) * cg; c++) {
            const float d = xp[c] + (bb ? bb[c] : 0.f) - m[gi];
            acc += d * d;
          }
          ss[gi] += acc;
        }
      }
      for (int gi = 0; gi < g.G; gi++) {
        r[gi] = static_cast<float>(1.0 / std::sqrt(ss[gi] / n + g.eps));
        mean[b * g.G + gi] = m[gi];
        rstd[b * g.G + gi] = r[gi];
      }
      for (idx p = 0; p < g.HW; p++) {
        const float* xp = xb + p * g.C;
        float* yp = yb + p * g.C;
        for (int c = 0; c < g.C; c++) {
          const int gi = c / cg;
          const float z = (xp[c] + (bb ? bb[c] : 0.f) - m[gi]) * r[gi] * gamma[c] + beta[c];
          yp[c] = g.swish ? z * sigmoid(z) : z;
        }
      }
    }
  });
}

void groupNormBackward(const NormGeom& g, const float* dy, const float* x, const float* bias, const float* gamma, const float* beta,
                       const float* mean, const float* rstd, float* dx, float* dbias, float* dgamma, float* dbeta) {
  const int cg = g.C / g.G;
  const int parts = std::min(threads(), g.B);
  std::vector<double> pg(static_cast<size_t>(parts) * g.C), pb(static_cast<size_t>(parts) * g.C);
  parallelFor(parts, [&](int part) {
    double* dgam = pg.data() + static_cast<size_t>(part) * g.C;
    double* dbet = pb.data() + static_cast<size_t>(part) * g.C;
    std::vector<double> sdz(g.G), sdzx(g.G);
    std::vector<float> dzc(g.C), dzxc(g.C);
    for (int b = part * g.B / parts; b < (part + 1) * g.B / parts; b++) {
      const idx off = static_cast<idx>(b) * g.HW * g.C;
      const float* xb = x + off;
      const float* dyb = dy + off;
      const float* bb = g.hasBias ? bias + static_cast<idx>(b) * g.C : nullptr;
      const float* m = mean + b * g.G;
      const float* r = rstd + b * g.G;
      float* dxb = dx + off;
      // Pass 1: dz = dy·act'(z) (kept in dx), per-channel Σdz and Σdz·x̂ for dgamma/dbeta, and
      // per-group Σ dx̂ and Σ dx̂·x̂ with dx̂ = dz·gamma.
      std::fill(dzc.begin(), dzc.end(), 0.f);
      std::fill(dzxc.begin(), dzxc.end(), 0.f);
      for (idx p = 0; p < g.HW; p++) {
        const float* xp = xb + p * g.C;
        const float* dyp = dyb + p * g.C;
        float* dzp = dxb + p * g.C;
        for (int c = 0; c < g.C; c++) {
          const int gi = c / cg;
          const float xh = (xp[c] + (bb ? bb[c] : 0.f) - m[gi]) * r[gi];
          float dz = dyp[c];
          if (g.swish) {
            const float z = xh * gamma[c] + beta[c];
            const float sg = sigmoid(z);
            dz *= sg * (1.f + z * (1.f - sg));
          }
          dzp[c] = dz;
          dzc[c] += dz;
          dzxc[c] += dz * xh;
        }
      }
      for (int c = 0; c < g.C; c++) {
        dgam[c] += dzxc[c];
        dbet[c] += dzc[c];
      }
      std::fill(sdz.begin(), sdz.end(), 0.0);
      std::fill(sdzx.begin(), sdzx.end(), 0.0);
      for (int c = 0; c < g.C; c++) {
        sdz[c / cg] += static_cast<double>(dzc[c]) * gamma[c];
        sdzx[c / cg] += static_cast<double>(dzxc[c]) * gamma[c];
      }
      const double n = static_cast<double>(g.HW) * cg;
      // Pass 2: dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), and dbias[b, c] = Σ_hw dx.
      float* db = g.hasBias ? dbias + static_cast<idx>(b) * g.C : nullptr;
      if (db) std::fill(db, db + g.C, 0.f);
      for (idx p = 0; p < g.HW; p++) {
        const float* xp = xb + p * g.C;
        float* dzp = dxb + p * g.C;
        for (int c = 0; c < g.C; c++) {
          const int gi = c / cg;
          const float xh = (xp[c] + (bb ? bb[c] : 0.f) - m[gi]) * r[gi];
          const float v = r[gi] * (dzp[c] * gamma[c] - static_cast<float>(sdz[gi] / n) - xh * static_cast<float>(sdzx[gi] / n));
          dzp[c] = v;
          if (db) db[c] += v;
        }
      }
    }
  });
  for (int c = 0; c < g.C; c++) {
    double a = 0, bsum = 0;
    for (int p = 0; p < parts; p++) {
      a += pg[static_cast<size_t>(p) * g.C + c];
      bsum += pb[static_cast<size_t>(p) * g.C + c];
    }
    dgamma[c] = static_cast<float>(a);
    dbeta[c] = static_cast<float>(bsum);
  }
}

}  // namespace sl
