// Blocked SGEMM after the BLIS/GotoBLAS recipe: B is packed into KC×NR panels that stay in L1,
// A into MC×KC blocks that stay in L2, and a 6×16 register-tiled micro-kernel does the FLOPs.
// On x86 with AVX and FMA the micro-kernel holds 12 ymm accumulators (6 rows × 2×8 columns); on
// AArch64 the NEON one holds 24 q-register accumulators (6 rows × 4×4 columns) — the same 6×16 tile,
// so both read the one packing below; elsewhere a plain C++ version is left to the auto-vectoriser.
#include "gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

// GCC/Clang only: the micro-kernel uses their target attribute and CPU-feature builtins (MSVC gets the
// portable kernel).
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define SL_X86 1
#include <immintrin.h>
#endif
// Advanced SIMD (NEON) is part of the AArch64 base ABI (Linux, macOS), so every aarch64 CPU has it.
#if defined(__aarch64__) && defined(__ARM_NEON) && (defined(__GNUC__) || defined(__clang__))
#define SL_NEON 1
#include <arm_neon.h>
#endif

namespace sl {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;
constexpr int KC = 256;
constexpr int MC = 96;    // 16 A micro-panels: 96×256×4 B = 96 KiB
constexpr int NC = 1024;  // B block: 256×1024×4 B = 1 MiB

// Micro-kernel: C[mr×nr] (+)= Ap[kc×MR]ᵀ · Bp[kc×NR]; mr ≤ MR, nr ≤ NR (edges go through a tile).
using MicroKernel = void (*)(int kc, const float* Ap, const float* Bp, float* C, std::ptrdiff_t ldc, int mr, int nr, bool acc);

void storeTile(const float* tile, float* C, std::ptrdiff_t ldc, int mr, int nr, bool acc) {
  for (int i = 0; i < mr; i++) {
    float* c = C + i * ldc;
    const float* t = tile + i * NR;
    if (acc)
      for (int j = 0; j < nr; j++) c[j] += t[j];
    else
      for (int j = 0; j < nr; j++) c[j] = t[j];
  }
}

void microGeneric(int kc, const float* Ap, const float* Bp, float* C, std::ptrdiff_t ldc, int mr, int nr, bool acc) {
  float t[MR * NR] = {0};
  for (int p = 0; p < kc; p++) {
    const float* a = Ap + p * MR;
    const float* b = Bp + p * NR;
    for (int i = 0; i < MR; i++) {
      const float ai = a[i];
      for (int j = 0; j < NR; j++) t[i * NR + j] += ai * b[j];
    }
  }
  storeTile(t, C, ldc, mr, nr, acc);
}

#ifdef SL_X86
__attribute__((target("avx,fma"))) void microAvxFma(int kc, const float* Ap, const float* Bp, float* C, std::ptrdiff_t ldc, int mr,
                                                    int nr, bool acc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(Bp);
    const __m256 b1 = _mm256_loadu_ps(Bp + 8);
    __m256 a;
    a = _mm256_broadcast_ss(Ap + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(Ap + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(Ap + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(Ap + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(Ap + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(Ap + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    Ap += MR;
    Bp += NR;
  }
  if (mr == MR && nr == NR) {
    float* r = C;
#define SL_ROW(x0, x1)                                                 \
  if (acc) {                                                           \
    x0 = _mm256_add_ps(x0, _mm256_loadu_ps(r));                        \
    x1 = _mm256_add_ps(x1, _mm256_loadu_ps(r + 8));                    \
  }                                                                    \
  _mm256_storeu_ps(r, x0);                                             \
  _mm256_storeu_ps(r + 8, x1);                                         \
  r += ldc;
    SL_ROW(c00, c01) SL_ROW(c10, c11) SL_ROW(c20, c21) SL_ROW(c30, c31) SL_ROW(c40, c41) SL_ROW(c50, c51)
#undef SL_ROW
    return;
  }
  alignas(32) float t[MR * NR];
  _mm256_store_ps(t + 0, c00), _mm256_store_ps(t + 8, c01), _mm256_store_ps(t + 16, c10), _mm256_store_ps(t + 24, c11);
  _mm256_store_ps(t + 32, c20), _mm256_store_ps(t + 40, c21), _mm256_store_ps(t + 48, c30), _mm256_store_ps(t + 56, c31);
  _mm256_store_ps(t + 64, c40), _mm256_store_ps(t + 72, c41), _mm256_store_ps(t + 80, c50), _mm256_store_ps(t + 88, c51);
  storeTile(t, C, ldc, mr, nr, acc);
}
#endif

#ifdef SL_NEON
// 24 accumulators + 4 B vectors + A in one q and one d register: 30 of AArch64's 32 v-registers.
void microNeon(int kc, const float* Ap, const float* Bp, float* C, std::ptrdiff_t ldc, int mr, int nr, bool acc) {
  float32x4_t c00 = vdupq_n_f32(0.f), c01 = c00, c02 = c00, c03 = c00;
  float32x4_t c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  float32x4_t c20 = c00, c21 = c00, c22 = c00, c23 = c00;
  float32x4_t c30 = c00, c31 = c00, c32 = c00, c33 = c00;
  float32x4_t c40 = c00, c41 = c00, c42 = c00, c43 = c00;
  float32x4_t c50 = c00, c51 = c00, c52 = c00, c53 = c00;
  for (int p = 0; p < kc; p++) {
    const float32x4_t b0 = vld1q_f32(Bp), b1 = vld1q_f32(Bp + 4), b2 = vld1q_f32(Bp + 8), b3 = vld1q_f32(Bp + 12);
    const float32x4_t a03 = vld1q_f32(Ap);     // rows 0–3 of this k
    const float32x2_t a45 = vld1_f32(Ap + 4);  // rows 4–5 (a panel is MR = 6 wide, so this stays inside it)
#define SL_FMA4(x0, x1, x2, x3, av, lane, fma) \
  x0 = fma(x0, b0, av, lane);                  \
  x1 = fma(x1, b1, av, lane);                  \
  x2 = fma(x2, b2, av, lane);                  \
  x3 = fma(x3, b3, av, lane);
    SL_FMA4(c00, c01, c02, c03, a03, 0, vfmaq_laneq_f32)
    SL_FMA4(c10, c11, c12, c13, a03, 1, vfmaq_laneq_f32)
    SL_FMA4(c20, c21, c22, c23, a03, 2, vfmaq_laneq_f32)
    SL_FMA4(c30, c31, c32, c33, a03, 3, vfmaq_laneq_f32)
    SL_FMA4(c40, c41, c42, c43, a45, 0, vfmaq_lane_f32)
    SL_FMA4(c50, c51, c52, c53, a45, 1, vfmaq_lane_f32)
#undef SL_FMA4
    Ap += MR;
    Bp += NR;
  }
  if (mr == MR && nr == NR) {
    float* r = C;
#define SL_ROW(x0, x1, x2, x3)                  \
  if (acc) {                                    \
    x0 = vaddq_f32(x0, vld1q_f32(r));           \
    x1 = vaddq_f32(x1, vld1q_f32(r + 4));       \
    x2 = vaddq_f32(x2, vld1q_f32(r + 8));       \
    x3 = vaddq_f32(x3, vld1q_f32(r + 12));      \
  }                                             \
  vst1q_f32(r, x0);                             \
  vst1q_f32(r + 4, x1);                         \
  vst1q_f32(r + 8, x2);                         \
  vst1q_f32(r + 12, x3);                        \
  r += ldc;
    SL_ROW(c00, c01, c02, c03) SL_ROW(c10, c11, c12, c13) SL_ROW(c20, c21, c22, c23)
    SL_ROW(c30, c31, c32, c33) SL_ROW(c40, c41, c42, c43) SL_ROW(c50, c51, c52, c53)
#undef SL_ROW
    return;
  }
  alignas(16) float t[MR * NR];
  const float32x4_t rows[MR * 4] = {c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23,
                                    c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53};
  for (int k = 0; k < MR * 4; k++) vst1q_f32(t + 4 * k, rows[k]);
  storeTile(t, C, ldc, mr, nr, acc);
}
#endif

struct Kernel {
  MicroKernel fn;
  const char* name;
};

Kernel pickKernel() {
#ifdef SL_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx") && __builtin_cpu_supports("fma")) return {microAvxFma, "avx+fma"};
#endif
#ifdef SL_NEON
  return {microNeon, "neon"};
#endif
  return {microGeneric, "generic"};
}

const Kernel& kernel() {
  static const Kernel k = pickKernel();
  return k;
}

// Packs rows [i0, i0+mc) × cols [p0, p0+kc) of A into MR-row panels, p-major, zero-padded.
void packA(int mc, int kc, const float* A, std::ptrdiff_t rsa, std::ptrdiff_t csa, float* dst) {
  for (int i = 0; i < mc; i += MR) {
    const int mr = std::min(MR, mc - i);
    if (mr == MR && csa == 1) {
      const float* r[MR];
      for (int k = 0; k < MR; k++) r[k] = A + (i + k) * rsa;
      for (int p = 0; p < kc; p++)
        for (int k = 0; k < MR; k++) *dst++ = r[k][p];
    } else {
      for (int p = 0; p < kc; p++) {
        for (int k = 0; k < mr; k++) dst[k] = A[(i + k) * rsa + p * csa];
        for (int k = mr; k < MR; k++) dst[k] = 0.f;
        dst += MR;
      }
    }
  }
}

// Packs rows [p0, p0+kc) × cols [j0, j0+nc) of B into NR-column panels, p-major, zero-padded.
void packB(int kc, int nc, const float* B, std::ptrdiff_t rsb, std::ptrdiff_t csb, float* dst) {
  for (int j = 0; j < nc; j += NR) {
    const int nr = std::min(NR, nc - j);
    if (nr == NR && csb == 1) {
      for (int p = 0; p < kc; p++) {
        std::memcpy(dst, B + p * rsb + j, NR * sizeof(float));
        dst += NR;
      }
    } else {
      for (int p = 0; p < kc; p++) {
        const float* b = B + p * rsb + j * csb;
        for (int k = 0; k < nr; k++) dst[k] = b[k * csb];
        for (int k = nr; k < NR; k++) dst[k] = 0.f;
        dst += NR;
      }
    }
  }
}

}  // namespace

const char* gemmKernelName() { return kernel().name; }

void sgemm(int M, int N, int K, const float* A, std::ptrdiff_t rsa, std::ptrdiff_t csa, const float* B, std::ptrdiff_t rsb,
           std::ptrdiff_t csb, float* C, std::ptrdiff_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int i = 0; i < M; i++) std::fill(C + i * ldc, C + i * ldc + N, 0.f);
    return;
  }
  const MicroKernel micro = kernel().fn;
  thread_local std::vector<float> bufA, bufB;
  const int ncMax = std::min(NC, (N + NR - 1) / NR * NR);
  const int kcMax = std::min(KC, K);
  bufA.resize(static_cast<size_t>(MC) * kcMax);
  bufB.resize(static_cast<size_t>(ncMax) * kcMax);
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = std::min(KC, K - pc);
      const bool acc = accumulate || pc > 0;
      packB(kc, nc, B + pc * rsb + jc * csb, rsb, csb, bufB.data());
      for (int ic = 0; ic < M; ic += MC) {
        const int mc = std::min(MC, M - ic);
        packA(mc, kc, A + ic * rsa + pc * csa, rsa, csa, bufA.data());
        for (int jr = 0; jr < nc; jr += NR) {
          const int nr = std::min(NR, nc - jr);
          const float* bp = bufB.data() + static_cast<size_t>(jr) * kc;
          for (int ir = 0; ir < mc; ir += MR) {
            const int mr = std::min(MR, mc - ir);
            micro(kc, bufA.data() + static_cast<size_t>(ir) * kc, bp, C + (ic + ir) * ldc + jc + jr, ldc, mr, nr, acc);
          }
        }
      }
    }
  }
}

}  // namespace sl
