// A fixed pool of worker threads for parallel-for over a few coarse tasks (one per core).
// Kernels split their work into `threads()` pieces; the calling thread runs piece 0.
#pragma once
#include <functional>

namespace sl {

/** Number of pieces parallelFor splits into (SCORE_LAB_NATIVE_THREADS or the core count). */
int threads();
void setThreads(int n);

/**
 * Runs f(i) for i in [0, n) and returns when all are done. A second caller while the pool is
 * busy (two jobs in two worker_threads) runs its pieces inline rather than waiting.
 */
void parallelFor(int n, const std::function<void(int)>& f);

}  // namespace sl
