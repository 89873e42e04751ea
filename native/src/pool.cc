#include "pool.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace sl {
namespace {

struct Pool {
  std::mutex m;
  std::condition_variable wake, done;
  const std::function<void(int)>* task = nullptr;
  int pieces = 0;
  std::atomic<int> next{0};
  int running = 0;
  unsigned long generation = 0;
  int workers = 0;
  std::mutex busy;  // one parallelFor at a time
  std::exception_ptr error;  // the first exception a piece threw (e.g. bad_alloc), rethrown to the caller

  void grow(int n) {
    // Threads are never joined: the pool lives for the process (a static destructor that joins
    // waiting threads can hang exit). They sleep on a condition variable when idle.
    while (workers < n) {
      std::thread([this] { loop(); }).detach();
      workers++;
    }
  }

  void loop() {
    unsigned long seen = 0;
    std::unique_lock<std::mutex> lk(m);
    for (;;) {
      wake.wait(lk, [&] { return generation != seen; });
      seen = generation;
      running++;
      lk.unlock();
      drain();
      lk.lock();
      if (--running == 0) done.notify_all();
    }
  }

  void drain() {
    for (;;) {
      int i = next.fetch_add(1);
      if (i >= pieces) return;
      try {
        (*task)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(m);
        if (!error) error = std::current_exception();
      }
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool();  // leaked on purpose, see grow()
  return *p;
}

int initialThreads() {
  if (const char* env = std::getenv("SCORE_LAB_NATIVE_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1 && n <= 256) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

std::atomic<int> gThreads{initialThreads()};

}  // namespace

int threads() { return gThreads.load(); }
void setThreads(int n) { gThreads.store(n < 1 ? 1 : n); }

void parallelFor(int n, const std::function<void(int)>& f) {
  if (n <= 1) {
    if (n == 1) f(0);
    return;
  }
  Pool& p = pool();
  std::unique_lock<std::mutex> busy(p.busy, std::try_to_lock);
  if (!busy.owns_lock()) {
    for (int i = 0; i < n; i++) f(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(p.m);
    p.grow(threads() - 1);
    p.task = &f;
    p.pieces = n;
    p.next.store(0);
    p.error = nullptr;
    p.generation++;
  }
  p.wake.notify_all();
  p.drain();
  std::unique_lock<std::mutex> lk(p.m);
  // Wait until every piece has been taken and every worker that woke has finished.
  p.done.wait(lk, [&] { return p.running == 0 && p.next.load() >= n; });
  p.task = nullptr;
  if (p.error) {
    std::exception_ptr e = p.error;
    p.error = nullptr;
    lk.unlock();
    busy.unlock();
    std::rethrow_exception(e);
  }
}

}  // namespace sl
