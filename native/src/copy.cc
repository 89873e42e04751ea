#include "copy.h"

#include <algorithm>
#include <cstring>

#include "pool.h"

namespace sl {

void copyBlocks(const float* src, float* dst, std::ptrdiff_t outer, std::ptrdiff_t srcStride, std::ptrdiff_t srcOffset,
                std::ptrdiff_t dstStride, std::ptrdiff_t dstOffset, std::ptrdiff_t len) {
  // Threads only pay off past a few hundred KiB; below that one memcpy loop is faster.
  const std::ptrdiff_t bytes = outer * len * static_cast<std::ptrdiff_t>(sizeof(float));
  const int parts = bytes < (1 << 19) ? 1 : static_cast<int>(std::min<std::ptrdiff_t>(threads(), outer));
  parallelFor(parts, [&](int i) {
    const std::ptrdiff_t lo = outer * i / parts, hi = outer * (i + 1) / parts;
    for (std::ptrdiff_t o = lo; o < hi; o++) std::memcpy(dst + o * dstStride + dstOffset, src + o * srcStride + srcOffset, sizeof(float) * len);
  });
}

}  // namespace sl
