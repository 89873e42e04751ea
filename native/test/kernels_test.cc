// The addon's kernels without Node: sgemm (every micro-kernel edge, strides, accumulate), the
// convolutions, GroupNorm(+bias+swish) and copyBlocks against naive double-precision loops.
// test/native/arm64-kernels.test.ts builds it with the host compiler and cross-compiles it for
// aarch64 to run under qemu, so the NEON micro-kernel is checked on an x86 machine.
// Prints "kernel: <gemmKernelName()>", one line per failure, then "N passed, N failed"; exits 1 on
// any failure. Optional argument: a substring; only checks whose name contains it run.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../src/conv.h"
#include "../src/copy.h"
#include "../src/gemm.h"
#include "../src/norm.h"
#include "../src/pool.h"

namespace {

int passed = 0, failed = 0;
const char* filter = nullptr;
std::string pass;  // "threads=N: " for the suites run once per thread count

bool wanted(const std::string& name) { return !filter || name.find(filter) != std::string::npos; }

void report(const std::string& name, bool ok, const std::string& why) {
  if (ok) {
    passed++;
  } else {
    failed++;
    std::printf("FAIL %s%s: %s\n", pass.c_str(), name.c_str(), why.c_str());
  }
}

// Deterministic inputs, identical on every platform (no <random> distributions).
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  float next() {  // uniform in [-1, 1)
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(static_cast<int32_t>(s >> 32)) / 2147483648.f;
  }
  std::vector<float> vec(size_t n, float scale = 1.f, float shift = 0.f) {
    std::vector<float> v(n);
    for (float& x : v) x = shift + scale * next();
    return v;
  }
};

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// sgemm: C[M×N] (+)= A·B with A, B each row-major or transposed, ldc ≥ N (the padding columns must
// stay untouched). Error bound per element: 1e-5 · (Σ_p |A_ip·B_pj| + |C0_ij|), i.e. relative to
// the magnitude of the K-term sum, so the tolerance grows with K as float rounding does.
void checkGemm(int M, int N, int K, bool transA, bool transB, bool acc, int ldcPad, uint64_t seed) {
  const std::string name = fmt("sgemm M=%g N=%g K=%g", M, N, K) + (transA ? " Aᵀ" : "") + (transB ? " Bᵀ" : "") + (acc ? " acc" : "") +
                           (ldcPad ? " ldc+pad" : "");
  if (!wanted(name)) return;
  Rng rng(seed);
  const std::vector<float> A = rng.vec(static_cast<size_t>(M) * K), B = rng.vec(static_cast<size_t>(K) * N);
  // A(i, p): row-major [M×K] → (K, 1); transposed storage [K×M] → (1, M). Same for B.
  const std::ptrdiff_t rsa = transA ? 1 : K, csa = transA ? M : 1;
  const std::ptrdiff_t rsb = transB ? 1 : N, csb = transB ? K : 1;
  const int ldc = N + ldcPad;
  std::vector<float> C = rng.vec(static_cast<size_t>(M) * ldc, 2.f);
  const std::vector<float> C0 = C;
  sl::sgemm(M, N, K, A.data(), rsa, csa, B.data(), rsb, csb, C.data(), ldc, acc);
  double worst = 0;
  int wi = -1, wj = -1;
  bool padOk = true;
  for (int i = 0; i < M; i++) {
    for (int j = 0; j < ldc; j++) {
      const size_t at = static_cast<size_t>(i) * ldc + j;
      if (j >= N) {
        padOk = padOk && C[at] == C0[at];
        continue;
      }
      double ref = acc ? C0[at] : 0.0, mag = acc ? std::fabs(C0[at]) : 0.0;
      for (int p = 0; p < K; p++) {
        const double t = static_cast<double>(A[i * rsa + p * csa]) * B[p * rsb + j * csb];
        ref += t;
        mag += std::fabs(t);
      }
      const double err = std::fabs(C[at] - ref) / (mag + 1e-30);
      if (!(err <= worst)) {  // NaN counts as worst
        worst = std::isnan(err) ? INFINITY : err;
        wi = i, wj = j;
      }
    }
  }
  report(name, worst <= 1e-5 && padOk,
         padOk ? fmt("relative error %.3g at (%g, %g)", worst, wi, wj) : std::string("wrote into C's padding columns"));
}

void gemmSuite() {
  // Edges of the 6×16 tile (1, 5, 6, 7, 15, 16, 17), KC = 256 (K > 256 accumulates over k-blocks),
  // MC = 96 (M > 96 uses several A blocks), and one N past NC = 1024.
  const int Ms[] = {1, 5, 6, 7, 13, 100};
  const int Ns[] = {1, 3, 15, 16, 17, 33};
  const int Ks[] = {1, 2, 7, 64, 300};
  uint64_t seed = 1;
  for (int M : Ms)
    for (int N : Ns)
      for (int K : Ks) {
        const int v = static_cast<int>(seed % 8);  // rotate the layout/accumulate/padding variants
        checkGemm(M, N, K, v & 1, v & 2, v & 4, static_cast<int>(seed % 3), seed);
        seed++;
      }
  // Every layout and accumulate combination on one shape that covers full and edge tiles.
  for (int v = 0; v < 8; v++) checkGemm(19, 37, 29, v & 1, v & 2, v & 4, v % 2 ? 3 : 0, 1000 + v);
  checkGemm(12, 32, 16, false, false, false, 0, 2000);    // full tiles only (the kernel's direct store)
  checkGemm(12, 32, 16, false, false, true, 0, 2001);
  checkGemm(97, 19, 513, true, false, true, 1, 2002);     // two A blocks, three k-blocks
  checkGemm(7, 1030, 9, false, true, false, 2, 2003);     // two B blocks (NC = 1024)

  // Degenerate sizes: K = 0 zeroes C without accumulate and leaves it alone with; M or N = 0 is a no-op.
  const std::string name = "sgemm K=0 / M=0 / N=0";
  if (wanted(name)) {
    std::vector<float> C(12, 3.f);
    const float one = 1.f;
    sl::sgemm(3, 4, 0, &one, 1, 1, &one, 1, 1, C.data(), 4, true);
    bool ok = C == std::vector<float>(12, 3.f);
    sl::sgemm(0, 4, 5, &one, 1, 1, &one, 1, 1, C.data(), 4, false);
    sl::sgemm(3, 0, 5, &one, 1, 1, &one, 1, 1, C.data(), 4, false);
    ok = ok && C == std::vector<float>(12, 3.f);
    sl::sgemm(3, 4, 0, &one, 1, 1, &one, 1, 1, C.data(), 4, false);
    report(name, ok && C == std::vector<float>(12, 0.f), "C changed where it must not, or was not zeroed");
  }
}

// ---------------------------------------------------------------------------------------------
// Convolutions, NHWC with HWIO filters, against direct loops.
// max |got − ref| / max |ref| (or / floor where ref may cancel to ~0, e.g. a sum that is 0 in exact arithmetic).
double maxRelErr(const std::vector<float>& got, const std::vector<double>& ref, double floor = 0) {
  double scale = floor, err = 0;
  for (double r : ref) scale = std::max(scale, std::fabs(r));
  for (size_t i = 0; i < ref.size(); i++) {
    const double e = std::fabs(got[i] - ref[i]);
    err = std::isnan(e) ? INFINITY : std::max(err, e);
  }
  return err / (scale + 1e-30);
}

void checkConv(sl::ConvGeom g, uint64_t seed) {
  const std::string name = fmt("conv B=%g H=%g W=%g", g.B, g.H, g.W) + fmt(" C=%g CO=%g K=%g", g.C, g.CO, g.KH) +
                           fmt("x%g s=%g d=%g", g.KW, g.sh, g.dh) + fmt(" pad=%g,%g", g.top, g.left);
  if (!wanted(name)) return;
  // Output size with symmetric padding (top/left before, the same after).
  g.OH = (g.H + 2 * g.top - g.dh * (g.KH - 1) - 1) / g.sh + 1;
  g.OW = (g.W + 2 * g.left - g.dw * (g.KW - 1) - 1) / g.sw + 1;
  Rng rng(seed);
  const size_t nx = static_cast<size_t>(g.B) * g.H * g.W * g.C, nw = static_cast<size_t>(g.KH) * g.KW * g.C * g.CO,
               ny = static_cast<size_t>(g.B) * g.OH * g.OW * g.CO;
  const std::vector<float> x = rng.vec(nx), w = rng.vec(nw), dy = rng.vec(ny);
  std::vector<double> y(ny, 0.0), dx(nx, 0.0), dw(nw, 0.0);
  for (int b = 0; b < g.B; b++)
    for (int oy = 0; oy < g.OH; oy++)
      for (int ox = 0; ox < g.OW; ox++)
        for (int kh = 0; kh < g.KH; kh++)
          for (int kw = 0; kw < g.KW; kw++) {
            const int iy = oy * g.sh - g.top + kh * g.dh, ix = ox * g.sw - g.left + kw * g.dw;
            if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
            for (int c = 0; c < g.C; c++) {
              const size_t xi = ((static_cast<size_t>(b) * g.H + iy) * g.W + ix) * g.C + c;
              for (int co = 0; co < g.CO; co++) {
                const size_t wi = ((static_cast<size_t>(kh) * g.KW + kw) * g.C + c) * g.CO + co;
                const size_t yi = ((static_cast<size_t>(b) * g.OH + oy) * g.OW + ox) * g.CO + co;
                y[yi] += static_cast<double>(x[xi]) * w[wi];
                dx[xi] += static_cast<double>(dy[yi]) * w[wi];
                dw[wi] += static_cast<double>(x[xi]) * dy[yi];
              }
            }
          }
  std::vector<float> gy(ny, NAN), gdx(nx, NAN), gdw(nw, NAN);
  sl::conv2dForward(g, x.data(), w.data(), gy.data());
  sl::conv2dBackpropInput(g, dy.data(), w.data(), gdx.data());
  sl::conv2dBackpropFilter(g, x.data(), dy.data(), gdw.data());
  const double ey = maxRelErr(gy, y), edx = maxRelErr(gdx, dx), edw = maxRelErr(gdw, dw);
  report(name, ey <= 1e-5 && edx <= 1e-5 && edw <= 1e-5, fmt("relative error y %.3g, dx %.3g, dw %.3g", ey, edx, edw));
}

void convSuite() {
  //                B  H   W   C  OH OW CO KH KW sh sw dh dw top left
  checkConv(sl::ConvGeom{2, 7, 6, 3, 0, 0, 5, 3, 3, 1, 1, 1, 1, 1, 1}, 1);   // 3×3 same
  checkConv(sl::ConvGeom{1, 9, 8, 4, 0, 0, 17, 3, 3, 2, 2, 1, 1, 1, 1}, 2);  // stride 2
  checkConv(sl::ConvGeom{2, 8, 8, 5, 0, 0, 6, 3, 3, 1, 1, 2, 2, 2, 2}, 3);   // dilation 2
  checkConv(sl::ConvGeom{3, 5, 5, 7, 0, 0, 9, 1, 1, 1, 1, 1, 1, 0, 0}, 4);   // pointwise (direct sgemm)
  checkConv(sl::ConvGeom{1, 6, 5, 2, 0, 0, 3, 2, 4, 1, 2, 1, 1, 0, 1}, 5);   // rectangular, uneven stride
  // Large enough (> 16 MFLOP, conv.cc's piecesFor) to split over threads: pieces and per-piece dw partials.
  checkConv(sl::ConvGeom{16, 16, 16, 16, 0, 0, 16, 3, 3, 1, 1, 1, 1, 1, 1}, 6);
}

// ---------------------------------------------------------------------------------------------
// GroupNorm (+ per-(b, c) bias before, swish after), forward and backward, against double loops.
void checkNorm(int B, int HW, int C, int G, int swish, int hasBias, float shift, uint64_t seed) {
  const std::string name = fmt("groupnorm B=%g HW=%g C=%g", B, HW, C) + fmt(" G=%g swish=%g bias=%g", G, swish, hasBias) +
                           fmt(" mean=%g", shift);
  if (!wanted(name)) return;
  const sl::NormGeom g{B, HW, C, G, 1e-5f, swish, hasBias};
  const int cg = C / G;
  Rng rng(seed);
  const size_t n = static_cast<size_t>(B) * HW * C;
  const std::vector<float> x = rng.vec(n, 1.5f, shift), bias = rng.vec(static_cast<size_t>(B) * C, 0.5f),
                           gamma = rng.vec(C, 0.5f, 1.f), beta = rng.vec(C, 0.5f), dy = rng.vec(n);
  std::vector<double> y(n), dx(n), dbias(static_cast<size_t>(B) * C, 0.0), dgamma(C, 0.0), dbeta(C, 0.0), mean(B * G), rstd(B * G);
  double dbiasMag = 0;  // max over (b, c) of Σ_p |dx|: dbias sums to exactly 0 when a group is one channel
  auto xin = [&](int b, int p, int c) {
    return static_cast<double>(x[(static_cast<size_t>(b) * HW + p) * C + c]) + (hasBias ? bias[static_cast<size_t>(b) * C + c] : 0.f);
  };
  const double cnt = static_cast<double>(HW) * cg;
  for (int b = 0; b < B; b++)
    for (int gi = 0; gi < G; gi++) {
      double s = 0, ss = 0;
      for (int p = 0; p < HW; p++)
        for (int c = gi * cg; c < (gi + 1) * cg; c++) s += xin(b, p, c);
      const double mu = s / cnt;
      for (int p = 0; p < HW; p++)
        for (int c = gi * cg; c < (gi + 1) * cg; c++) ss += (xin(b, p, c) - mu) * (xin(b, p, c) - mu);
      const double rs = 1.0 / std::sqrt(ss / cnt + 1e-5);
      mean[b * G + gi] = mu, rstd[b * G + gi] = rs;
      // Forward, and dz = dy·act'(z), Σdz·gamma and Σdz·gamma·x̂ over the group.
      double sdxh = 0, sdxhx = 0;
      std::vector<double> dz(static_cast<size_t>(HW) * cg), xh(dz.size());
      for (int p = 0; p < HW; p++)
        for (int c = gi * cg; c < (gi + 1) * cg; c++) {
          const size_t at = (static_cast<size_t>(b) * HW + p) * C + c, k = static_cast<size_t>(p) * cg + (c - gi * cg);
          xh[k] = (xin(b, p, c) - mu) * rs;
          const double z = xh[k] * gamma[c] + beta[c], sg = 1.0 / (1.0 + std::exp(-z));
          y[at] = swish ? z * sg : z;
          dz[k] = dy[at] * (swish ? sg * (1.0 + z * (1.0 - sg)) : 1.0);
          dgamma[c] += dz[k] * xh[k];
          dbeta[c] += dz[k];
          sdxh += dz[k] * gamma[c];
          sdxhx += dz[k] * gamma[c] * xh[k];
        }
      for (int p = 0; p < HW; p++)
        for (int c = gi * cg; c < (gi + 1) * cg; c++) {
          const size_t at = (static_cast<size_t>(b) * HW + p) * C + c, k = static_cast<size_t>(p) * cg + (c - gi * cg);
          dx[at] = rs * (dz[k] * gamma[c] - sdxh / cnt - xh[k] * sdxhx / cnt);
          dbias[static_cast<size_t>(b) * C + c] += dx[at];
        }
      for (int c = gi * cg; c < (gi + 1) * cg; c++) {
        double m = 0;
        for (int p = 0; p < HW; p++) m += std::fabs(dx[(static_cast<size_t>(b) * HW + p) * C + c]);
        dbiasMag = std::max(dbiasMag, m);
      }
    }
  std::vector<float> gy(n, NAN), gmean(B * G, NAN), grstd(B * G, NAN), gdx(n, NAN), gdbias(static_cast<size_t>(B) * C, NAN), gdgamma(C, NAN),
      gdbeta(C, NAN);
  const float* bp = hasBias ? bias.data() : nullptr;
  sl::groupNormForward(g, x.data(), bp, gamma.data(), beta.data(), gy.data(), gmean.data(), grstd.data());
  sl::groupNormBackward(g, dy.data(), x.data(), bp, gamma.data(), beta.data(), gmean.data(), grstd.data(), gdx.data(),
                        hasBias ? gdbias.data() : nullptr, gdgamma.data(), gdbeta.data());
  // mean is that of x + bias, in the units of x: compare relative to its spread (|shift| may be large).
  const double ey = maxRelErr(gy, y), em = maxRelErr(gmean, mean), er = maxRelErr(grstd, rstd), edx = maxRelErr(gdx, dx),
               edg = maxRelErr(gdgamma, dgamma), edb = maxRelErr(gdbeta, dbeta), edbias = hasBias ? maxRelErr(gdbias, dbias, dbiasMag) : 0;
  const double worstGrad = std::max(std::max(edx, edg), std::max(edb, edbias));
  report(name, ey <= 1e-5 && em <= 1e-5 && er <= 1e-5 && worstGrad <= 1e-4,
         fmt("relative error y %.3g, mean %.3g, rstd %.3g", ey, em, er) + fmt(", dx %.3g, dgamma %.3g, dbeta %.3g", edx, edg, edb) +
             fmt(", dbias %.3g", edbias));
}

void normSuite() {
  checkNorm(2, 10, 8, 4, 1, 1, 0.f, 1);
  checkNorm(3, 7, 6, 3, 0, 0, 0.f, 2);
  checkNorm(1, 33, 32, 8, 1, 0, 0.f, 3);
  checkNorm(2, 16, 5, 1, 0, 1, 0.f, 4);     // one group of odd width
  checkNorm(2, 12, 12, 12, 1, 1, 0.f, 5);   // one channel per group
  checkNorm(2, 20, 8, 2, 1, 1, 100.f, 6);   // |mean| ≫ std: the centred two-pass statistics
}

// ---------------------------------------------------------------------------------------------
void copySuite() {
  const std::string name = "copyBlocks (concat-style strided runs)";
  if (!wanted(name)) return;
  Rng rng(7);
  const std::vector<float> src = rng.vec(5 * 9);
  std::vector<float> dst(5 * 12, -7.f), ref = dst;
  sl::copyBlocks(src.data(), dst.data(), 5, 9, 2, 12, 3, 6);  // rows of 9, take [2, 8) into [3, 9) of rows of 12
  for (int o = 0; o < 5; o++)
    for (int k = 0; k < 6; k++) ref[o * 12 + 3 + k] = src[o * 9 + 2 + k];
  report(name, dst == ref, "wrong elements copied");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) filter = argv[1];
  std::printf("kernel: %s\n", sl::gemmKernelName());
  // sgemm itself is single-threaded; the convolutions and GroupNorm run once on the calling thread
  // and once split over the pool (3 pieces: worker threads, under qemu too).
  sl::setThreads(1);
  gemmSuite();
  copySuite();
  for (int t : {1, 3}) {
    sl::setThreads(t);
    pass = "threads=" + std::to_string(t) + ": ";
    convSuite();
    normSuite();
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
