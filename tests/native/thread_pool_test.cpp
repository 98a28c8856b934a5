// ThreadPool::parallel_for: every index exactly once in chunks of at least `grain`, on the
// spinning path (calls back to back) and the sleeping path (calls further apart than
// kSpinSeconds), with the caller and the workers really running at the same time, and a pool
// that can be destroyed whether its workers spin or sleep. The pthreads wasm build runs the
// same pool under every multi-threaded kernel of backend_ops_test_mt.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "hooklab/thread_pool.h"

namespace hooklab {
namespace {

struct Coverage {
  std::vector<std::atomic<int>> visits;
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  explicit Coverage(int64_t n) : visits(static_cast<size_t>(n)) {}
};

// Runs one parallel_for and checks its chunks: disjoint, covering [0, n), each at least
// `grain` long except the one that ends at n.
void expect_exact_cover(ThreadPool& pool, int64_t n, int64_t grain) {
  Coverage c(n);
  pool.parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) c.visits[static_cast<size_t>(i)].fetch_add(1);
    std::lock_guard<std::mutex> lock(c.mutex);
    c.chunks.emplace_back(begin, end);
  });
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(c.visits[static_cast<size_t>(i)].load(), 1) << "index " << i << " of " << n;
  for (const auto& [begin, end] : c.chunks) {
    ASSERT_LT(begin, end);
    if (end != n) { EXPECT_GE(end - begin, grain) << "chunk [" << begin << ", " << end << ") of n " << n; }
  }
  if (n <= 0) { EXPECT_TRUE(c.chunks.empty()); }
}

TEST(ThreadPool, CoversEveryIndexOnceInChunksOfAtLeastTheGrain) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int64_t n : {0, 1, 2, 5, 100, 1000, 4097}) {
      for (int64_t grain : {0, 1, 7, 64, 5000}) expect_exact_cover(pool, n, grain);
    }
  }
}

TEST(ThreadPool, BackToBackCallsWhileWorkersSpin) {
  ThreadPool pool(3);
  for (int call = 0; call < 2000; ++call) expect_exact_cover(pool, 1 + call % 97, 1 + call % 5);
}

// More threads than cores: workers are often descheduled between seeing a job and claiming a
// chunk, so a worker late from a job that already ended meets the next one.
TEST(ThreadPool, OversubscribedWorkersLateFromEarlierJobs) {
  ThreadPool pool(8);
  for (int call = 0; call < 3000; ++call) expect_exact_cover(pool, 1 + call % 61, 1 + call % 3);
}

TEST(ThreadPool, CallsFurtherApartThanTheSpinFindSleepingWorkers) {
  ThreadPool pool(2);
  const auto gap = std::chrono::duration<double>(ThreadPool::kSpinSeconds * 20);
  for (int call = 0; call < 20; ++call) {
    std::this_thread::sleep_for(gap);
    expect_exact_cover(pool, 64, 1);
  }
}

// Two chunks that each wait for the other to start: this only finishes if the caller and a
// worker run them at the same time (a pool that ran everything on one thread would time out).
TEST(ThreadPool, CallerAndWorkerRunChunksConcurrently) {
  ThreadPool pool(2);
  for (const double idle_seconds : {0.0, ThreadPool::kSpinSeconds * 20}) {
    std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds));
    std::atomic<int> started{0};
    std::atomic<bool> met{true};
    std::mutex mutex;
    std::set<std::thread::id> ids;
    pool.parallel_for(2, 1, [&](int64_t, int64_t) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        ids.insert(std::this_thread::get_id());
      }
      started.fetch_add(1);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (started.load() < 2) {
        if (std::chrono::steady_clock::now() > deadline) {
          met = false;
          return;
        }
        std::this_thread::yield();
      }
    });
    EXPECT_TRUE(met.load()) << "idle " << idle_seconds << " s: the two chunks never ran at the same time";
    EXPECT_EQ(ids.size(), 2u);
  }
}

TEST(ThreadPool, DestroysWhetherWorkersSpinOrSleep) {
  for (int threads : {2, 4}) {
    {
      ThreadPool spinning(threads);
      expect_exact_cover(spinning, 100, 1);
    }  // destroyed right after a call: workers are still spinning
    {
      ThreadPool sleeping(threads);
      expect_exact_cover(sleeping, 100, 1);
      std::this_thread::sleep_for(std::chrono::duration<double>(ThreadPool::kSpinSeconds * 20));
    }  // destroyed with every worker asleep
    ThreadPool never_used(threads);
  }
}

}  // namespace
}  // namespace hooklab
