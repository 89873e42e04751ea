// Single-threaded SGEMM on strided operands: C[M×N] (+)= A[M×K] · B[K×N].
// A(i, p) = A[i·rsa + p·csa], B(p, j) = B[p·rsb + j·csb], C row-major with leading dimension ldc.
// Strides let the convolutions pass transposed views without copying; packing makes them dense.
#pragma once
#include <cstddef>

namespace sl {

void sgemm(int M, int N, int K, const float* A, std::ptrdiff_t rsa, std::ptrdiff_t csa, const float* B,
           std::ptrdiff_t rsb, std::ptrdiff_t csb, float* C, std::ptrdiff_t ldc, bool accumulate);

/** Which micro-kernel sgemm uses on this CPU ("avx+fma", "neon" or "generic"). */
const char* gemmKernelName();

}  // namespace sl
