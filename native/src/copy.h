// Strided block copies: Concat and SplitV along any axis are `outer` copies of contiguous runs.
#pragma once
#include <cstddef>

namespace sl {

void copyBlocks(const float* src, float* dst, std::ptrdiff_t outer, std::ptrdiff_t srcStride, std::ptrdiff_t srcOffset,
                std::ptrdiff_t dstStride, std::ptrdiff_t dstOffset, std::ptrdiff_t len);

}  // namespace sl
